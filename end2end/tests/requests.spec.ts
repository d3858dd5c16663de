import { Browser, Page } from "@playwright/test";
import { expect, fillRelease, signedIn, waitForHydration, test } from "./helpers";

const as = (browser: Browser, user: string) => signedIn(browser, user);

async function fillBankingForm(page: Page, version: string) {
  const release = { version, summary: "Fixes interest rounding", risk: "medium", ticket: "CHG-1042", impact: "none" } as const;
  await fillRelease(page, "banking", "production", release);
}

async function decide(page: Page, url: string, verdict: "Approve" | "Reject", comment = "") {
  await page.goto(url);
  if (comment) await page.getByLabel("Comment (required to reject)").fill(comment);
  await page.getByRole("button", { name: verdict, exact: true }).click();
}

test("a Banking production release goes through both stages and the requester sees it live", async ({ browser }) => {
  const ada = await as(browser, "ada");
  await fillBankingForm(ada, "2.4.0");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  await expect(ada).toHaveURL(/\/requests\/\d+$/);
  const url = ada.url();
  await expect(ada.getByTestId("state")).toHaveText("pending approval");
  await expect(ada.getByRole("button", { name: "Approve", exact: true })).toHaveCount(0);
  await waitForHydration(ada);

  const ben = await as(browser, "ben");
  await expect(ben.getByTestId("queue-count")).toHaveText("1");
  await decide(ben, url, "Approve", "Owner review done");
  await expect(ben.getByRole("status")).toContainText("You approved request");

  for (const member of ["cleo", "dev"]) {
    const cab = await as(browser, member);
    await decide(cab, url, "Approve");
  }
  // The requester's page was never reloaded: the change arrived by itself.
  await expect(ada.getByTestId("state")).toHaveText("approved", { timeout: 10_000 });
  await expect(ada.locator(".timeline")).toContainText("Approved: every stage is satisfied");

  // Operations find it on the board of every request.
  const olga = await as(browser, "olga");
  await olga.getByRole("link", { name: "Requests" }).click();
  await olga.getByLabel("State").selectOption("approved");
  await olga.getByRole("button", { name: "Filter" }).click();
  await expect(olga.locator("table")).toContainText("Banking 2.4.0");
});

test("a rejection needs a comment and ends the request", async ({ browser }) => {
  const ada = await as(browser, "ada");
  await fillBankingForm(ada, "2.5.0");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  const url = ada.url();
  const ben = await as(browser, "ben");
  await decide(ben, url, "Reject");
  await expect(ben.getByRole("alert")).toHaveText("Say why you reject this request.");
  await decide(ben, url, "Reject", "No rollback test");
  await expect(ben.getByTestId("state")).toHaveText("rejected");
  await expect(ben.locator(".timeline")).toContainText("No rollback test");
});

test("a bad form shows a message under each field and keeps what was typed", async ({ browser }) => {
  const ada = await as(browser, "ada");
  await fillBankingForm(ada, "");
  await ada.getByLabel("Change ticket").fill("");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  await expect(ada.locator("#version-error")).toHaveText("Required.");
  await expect(ada.locator("[id='fields.change_ticket-error']")).toHaveText("Required.");
  await expect(ada.getByLabel("Change summary")).toHaveValue("Fixes interest rounding");
});

test("a standard change is approved as soon as it is submitted; another goes the normal way and says why", async ({ browser }) => {
  const wes = await as(browser, "wes");
  const open = async (version: string, risk: string, contentOnly: boolean) => {
    await wes.goto("/requests/new?app=storefront&env=production");
    await expect(wes.getByTestId("standard-rules")).toContainText("Standard changes");
    await wes.getByLabel("Version").fill(version);
    await wes.getByLabel("Change summary").fill("New spring banner");
    await wes.getByLabel("Risk").selectOption(risk);
    await wes.getByLabel("Rollback plan").fill("Put the old banner back");
    if (contentOnly) await wes.getByLabel("Content only (copy and images, no code)").check();
    await wes.getByRole("button", { name: "Submit the request" }).click();
    await expect(wes).toHaveURL(/\/requests\/\d+$/);
    await waitForHydration(wes);
  };
  await open("7.1.0", "low", true);
  await expect(wes.getByTestId("state")).toHaveText("approved");
  await expect(wes.getByTestId("standard")).toHaveText("Standard change: Content only");
  await expect(wes.getByText("Approved: the standard change rule “Content only” is met")).toBeVisible();

  await open("7.1.1", "medium", true);
  await expect(wes.getByTestId("state")).toHaveText("pending approval");
  await expect(wes.getByTestId("warnings")).toContainText("Not a standard change, so it needs approval");
  await expect(wes.getByTestId("warnings")).toContainText("the risk is medium, not low");
});
