import { Browser, Page } from "@playwright/test";
import { deployPort } from "../playwright.config";
import { expect, fillRelease, signedIn, submitRelease, waitForHydration, test } from "./helpers";

// The deployment portal (see deploy-stack.sh): Storefront staging deploys through the demo's
// shell jobs, with no approval, and a version naming "fail" fails its deployment.
const base = `http://127.0.0.1:${deployPort}`;
test.use({ baseURL: base });

async function release(page: Page, version: string, outcome: string) {
  await fillRelease(page, "storefront", "staging", { version, summary: `Storefront ${version}`, risk: "low", rollback: "Roll back" });
  await submitRelease(page);
  await waitForHydration(page);
  await expect(page.getByTestId("state")).toHaveText(outcome, { timeout: 60_000 });
}

test("a failed deployment is rolled back to the last version that succeeded", async ({ browser }: { browser: Browser }) => {
  test.setTimeout(120_000);
  const wes = await signedIn(browser, "wes", base);
  await release(wes, "4.0.0", "succeeded");
  await release(wes, "4.0.1-fail", "failed");
  const failed = wes.url();

  await wes.getByRole("link", { name: "Roll back to 4.0.0" }).click();
  await expect(wes.getByRole("heading", { level: 1 })).toHaveText("Roll back Storefront Staging to 4.0.0");
  await expect(wes.getByLabel("Version")).toHaveValue("4.0.0");
  await expect(wes.getByLabel("Change summary")).toContainText("Rolls back request #");
  await wes.getByRole("button", { name: "Submit the request" }).click();
  await expect(wes).toHaveURL(/\/requests\/\d+$/);
  expect(wes.url()).not.toBe(failed);
  await waitForHydration(wes);
  await expect(wes.getByTestId("rollback")).toContainText("Rollback of #");
  await expect(wes.getByTestId("state")).toHaveText("succeeded", { timeout: 60_000 });

  await wes.goto("/board");
  await expect(wes.locator(".badge-rollback").first()).toHaveText("Rollback");
});
