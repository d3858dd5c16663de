import { Browser, Page } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { mailDir } from "../playwright.config";
import { expect, fillRelease, signIn, submitRelease, waitForHydration, test } from "./helpers";

async function as(browser: Browser, user: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, user);
  return page;
}

/** Every message the SMTP server kept, soft line breaks and `=3D` of quoted-printable undone. */
function mailbox(): string[] {
  const dir = join(mailDir, "new");
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) =>
    readFileSync(join(dir, n), "utf8").replace(/\r\n/g, "\n").replace(/\n /g, " ").replace(/=\n/g, "").replace(/=3D/g, "="),
  );
}

async function mailTo(address: string, subjectPart: string): Promise<string> {
  let found: string | undefined;
  await expect
    .poll(() => {
      found = mailbox().find((m) => m.includes(`To: ${address}`) && m.includes(subjectPart));
      return found !== undefined;
    }, { timeout: 20_000 })
    .toBe(true);
  return found!;
}

async function unread(page: Page): Promise<number> {
  const badge = page.getByTestId("unread-count");
  return (await badge.count()) === 0 ? 0 : Number(await badge.textContent());
}

test("an approver is mailed, follows the link to sign in and decide; the requester's bell counts it live", async ({ browser }) => {
  const ada = await as(browser, "ada");
  const release = { version: "2.6.0", summary: "Quarterly statement layout", risk: "low", ticket: "CHG-2060", impact: "none" } as const;
  await fillRelease(ada, "banking", "production", release);
  const requestPath = new URL(await submitRelease(ada)).pathname;
  await waitForHydration(ada);
  const before = await unread(ada);

  const mail = await mailTo("ben@runway.example", "Approval needed: Banking 2.6.0 to Production, from Ada Lovelace");
  expect(mail).toContain("Content-Type: text/html");
  const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/requests\/\d+/)?.[0];
  expect(link && new URL(link).pathname).toBe(requestPath);

  // Ben follows the link signed out: the sign-in comes first, then the request itself.
  const ben = await (await browser.newContext()).newPage();
  await ben.goto(link!);
  await expect(ben).toHaveURL(/\/login\?next=/);
  await ben.getByLabel("User name").fill("ben");
  await ben.getByLabel("Password").fill("runway-demo");
  await ben.getByRole("button", { name: "Sign in" }).click();
  await expect(ben).toHaveURL(new RegExp(`${requestPath}$`));
  await ben.getByLabel("Comment (required to reject)").fill("Wait for the CAB slot on Thursday");
  await ben.getByRole("button", { name: "Reject", exact: true }).click();
  await expect(ben.getByRole("status")).toContainText("rejected");

  // Ada never reloaded: her bell counts the outcome, and her inbox says it with the comment.
  await expect(ada.getByTestId("unread-count")).toHaveText(String(before + 1), { timeout: 10_000 });
  await ada.getByRole("link", { name: "Notifications" }).click();
  await expect(ada.getByTestId("inbox")).toContainText("Rejected: Banking 2.6.0 to Production");
  await expect(ada.getByTestId("inbox")).toContainText("Wait for the CAB slot on Thursday");
  await mailTo("ada@runway.example", "Rejected: Banking 2.6.0 to Production");
  await ada.getByRole("button", { name: "Mark all read" }).click();
  await expect(ada.getByTestId("unread-summary")).toHaveText("Everything is read.");
  await expect(ada.getByTestId("unread-count")).toHaveCount(0);
});

test("a malformed address on the profile is refused under its field", async ({ browser }) => {
  const wes = await as(browser, "wes");
  await wes.goto("/profile");
  await wes.getByLabel("Email address").fill("wes@");
  await wes.getByRole("button", { name: "Save" }).click();
  await expect(wes).toHaveURL(/\/profile$/);
  await expect(wes.locator("#email-error")).toContainText("is not an email address");
  await expect(wes.getByLabel("Email address")).toHaveValue("wes@");
  await wes.getByLabel("Email address").fill("wes@web.example");
  await wes.getByRole("button", { name: "Save" }).click();
  await expect(wes.getByRole("status")).toHaveText("Profile saved.");
  await expect(wes.getByLabel("Email address")).toHaveValue("wes@web.example");
});
