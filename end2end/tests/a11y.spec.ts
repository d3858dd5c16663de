import AxeBuilder from "@axe-core/playwright";
import { Browser, Page } from "@playwright/test";
import { expect, signedIn, test } from "./helpers";

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
  await ada.getByLabel("Version").fill("9.9.9");
  await ada.getByLabel("Change summary").fill("Accessibility probe");
  await ada.getByLabel("Risk").selectOption("low");
  await ada.getByLabel("Rollback plan").fill("Redeploy the previous version");
  await ada.getByLabel("Change ticket").fill("CHG-9");
  await ada.getByLabel("Customer impact").selectOption("none");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  await expect(ada).toHaveURL(/\/requests\/\d+$/);
  const requestPath = new URL(ada.url()).pathname;
  await check(ada, requestPath);
  await check(ada, "/applications/banking/history");

  const ben = await as(browser, "ben");
  await check(ben, "/approvals");

  // Out of the way of the other specs' approver queues.
  await ada.goto(requestPath);
  await ada.getByRole("button", { name: "Cancel this request" }).click();
  await expect(ada.getByTestId("state")).toHaveText("cancelled");
});
