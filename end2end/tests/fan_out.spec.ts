import { Browser } from "@playwright/test";
import { deployPort } from "../playwright.config";
import { expect, fillRelease, signedIn, submitRelease, waitForHydration, test } from "./helpers";

// The deployment portal (see deploy-stack.sh): Storefront production deploys to two regions side
// by side through the demo's shell jobs; a version naming a region fails there once.
const base = `http://127.0.0.1:${deployPort}`;
test.use({ baseURL: base });

test("one approval deploys both regions; the failed one is retried alone", async ({ browser }: { browser: Browser }) => {
  test.setTimeout(120_000);
  const wes = await signedIn(browser, "wes", base);
  const release = { version: "7.5.0-fail-us", summary: "Checkout redesign", risk: "medium", rollback: "Redeploy 7.4" } as const;
  await fillRelease(wes, "storefront", "production", release);
  const url = await submitRelease(wes);

  const pia = await signedIn(browser, "pia", base);
  await pia.goto(url);
  await pia.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(pia.getByRole("status")).toContainText("You approved request");

  // Operations watch both regions: Europe deploys, the United States fail and wait for them.
  const olga = await signedIn(browser, "olga", base);
  await olga.goto(url);
  await waitForHydration(olga);
  await expect(olga.getByText("Deploys to 2 targets in parallel")).toBeVisible();
  await expect(olga.getByTestId("state")).toHaveText("failed", { timeout: 60_000 });
  const region = (id: string) => olga.locator(`[data-target="${id}"]`);
  await expect(region("eu").getByTestId("target-status")).toHaveText("succeeded");
  await expect(region("us").getByTestId("target-status")).toHaveText("failed");
  await expect(region("us")).toContainText("region us unreachable");
  await expect(region("eu").getByTestId("step")).toHaveCount(2);
  await expect(olga.getByRole("button", { name: "Retry Europe" })).toHaveCount(0);

  await olga.getByRole("button", { name: "Retry United States" }).click();
  await expect(olga.getByRole("status")).toContainText("The deployment of us will run again (attempt 2).");
  await expect(olga.getByTestId("state")).toHaveText("succeeded", { timeout: 60_000 });
  await expect(region("us").getByTestId("target-status")).toHaveText("succeeded");
  // Europe ran once; the United States twice.
  await expect(region("eu").getByTestId("step")).toHaveCount(2);
  await expect(region("us").getByTestId("step")).toHaveCount(3);
});
