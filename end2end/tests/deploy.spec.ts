import { Browser } from "@playwright/test";
import { deployPort } from "../playwright.config";
import { expect, fillRelease, signedIn, submitRelease, waitForHydration, test } from "./helpers";

// This portal deploys Banking staging through a real Buildbot master (see deploy-stack.sh).
const base = `http://127.0.0.1:${deployPort}`;
test.use({ baseURL: base });

const as = (browser: Browser, user: string) => signedIn(browser, user, base);

test("an approved release is provisioned and deployed by Buildbot, live on the requester's page", async ({ browser }) => {
  test.setTimeout(120_000);
  const ada = await as(browser, "ada");
  const release = { version: "3.0.1", summary: "New statements page", risk: "low", ticket: "CHG-2001", impact: "none" } as const;
  await fillRelease(ada, "banking", "staging", release);
  const url = await submitRelease(ada);
  await waitForHydration(ada);

  const ben = await as(browser, "ben");
  await ben.goto(url);
  await ben.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(ben.getByRole("status")).toContainText("You approved request");

  // Never reloaded: the steps, their states and the final state arrive by themselves.
  await expect(ada.getByTestId("state")).toHaveText("succeeded", { timeout: 90_000 });
  // Live changes re-read the approver's page too; it still says what their approval did.
  await expect(ben.getByRole("status")).toContainText("You approved request");
  const steps = ada.getByTestId("step");
  await expect(steps).toHaveCount(2);
  await expect(steps.nth(0)).toContainText("succeeded");
  await expect(steps.nth(1)).toContainText("succeeded");
  const link = steps.nth(1).getByRole("link", { name: "Open the CI run" });
  await expect(link).toHaveAttribute("href", new RegExp(`^http://127\\.0\\.0\\.1:${deployPort + 1}/#/builders/\\d+/builds/\\d+$`));
  await expect(steps.nth(1).locator("pre.log")).toContainText("deploying banking 3.0.1 to staging");
});
