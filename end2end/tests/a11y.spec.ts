import AxeBuilder from "@axe-core/playwright";
import { Browser, Page } from "@playwright/test";
import { expect, fillRelease, signedIn, submitRelease, test } from "./helpers";

/** WCAG 2.1 A and AA, as axe-core checks them. */
const RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const as = (browser: Browser, user: string) => signedIn(browser, user);

async function check(page: Page, path: string) {
  await page.goto(path);
  await page.waitForLoadState("networkidle");
  const result = await new AxeBuilder({ page }).withTags(RULES).analyze();
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`,
  );
  expect(found, `${path} should pass WCAG 2.1 A/AA`).toEqual([]);
}

test("every page passes axe-core's WCAG 2.1 A and AA rules", async ({ browser }) => {
  // A dozen pages, each loaded, hydrated and scanned: more than one page's default time.
  test.setTimeout(120_000);
  const anonymous = await (await browser.newContext()).newPage();
  await check(anonymous, "/login");

  const root = await as(browser, "root");
  for (const path of ["/", "/board", "/calendar", "/calendar?month=2026-12", "/tickets", "/gate", "/insights", "/catalog", "/admin/tokens", "/admin/users", "/admin/mail", "/audit", "/inbox", "/profile"]) {
    await check(root, path);
  }

  const ada = await as(browser, "ada");
  await check(ada, "/requests/new?app=banking&env=production");
  // Two requests for one target: the second's page warns of the first, whatever the time.
  const probes: string[] = [];
  try {
    for (const version of ["9.9.9", "9.9.10"]) {
      const release = { version, summary: "Accessibility probe", risk: "low", ticket: "CHG-9", impact: "none" } as const;
      await fillRelease(ada, "banking", "production", release);
      probes.push(new URL(await submitRelease(ada)).pathname);
    }
    await expect(ada.getByTestId("warnings")).toContainText("also targets this application and environment");
    await check(ada, probes[1]);
    await check(ada, "/applications/banking/history");
    const ben = await as(browser, "ben");
    await check(ben, "/approvals");
  } finally {
    // Out of the way of the other specs' approver queues, whatever the scan found.
    for (const path of probes) {
      await ada.goto(path);
      await ada.getByRole("button", { name: "Cancel this request" }).click();
      await expect(ada.getByTestId("state")).toHaveText("cancelled");
    }
  }
});
