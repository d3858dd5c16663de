import { Browser } from "@playwright/test";
import { deployPort } from "../playwright.config";
import { expect, signedIn, waitForHydration, test } from "./helpers";

// The deployment portal (see deploy-stack.sh), whose Banking production is frozen throughout.
const base = `http://127.0.0.1:${deployPort}`;
test.use({ baseURL: base });

const as = (browser: Browser, user: string) => signedIn(browser, user, base);

test("operations raise an emergency change that deploys through a freeze and opens its review", async ({ browser }) => {
  test.setTimeout(120_000);
  const olga = await as(browser, "olga");
  await olga.goto("/requests/new?app=banking&env=production");
  // Operations may not request Banking the normal way: the form offers the emergency path only.
  await expect(olga.getByLabel(/Normal/)).toBeDisabled();
  await expect(olga.getByLabel("Emergency (break-glass)")).toBeChecked();
  await olga.getByLabel("Version").fill("3.0.2");
  await olga.getByLabel("Change summary").fill("Fix card payments");
  await olga.getByLabel("Risk").selectOption("medium");
  await olga.getByLabel("Rollback plan").fill("Redeploy 3.0.1");
  await olga.getByLabel("Change ticket").fill("CHG-911");
  await olga.getByLabel("Customer impact").selectOption("outage");
  await olga.getByRole("button", { name: "Submit the request" }).click();
  // Without a justification the form says so and keeps what was typed.
  await expect(olga.locator("#justification-error")).toContainText("Required for an emergency change");
  await expect(olga.getByLabel("Version")).toHaveValue("3.0.2");
  await olga.getByLabel("Justification").fill("Card payments fail for 3% of customers");
  await olga.getByRole("button", { name: "Submit the request" }).click();
  await expect(olga).toHaveURL(/\/requests\/\d+$/);
  const url = olga.url();
  await waitForHydration(olga);
  await expect(olga.getByTestId("emergency")).toHaveText("Emergency change");
  await expect(olga.getByText("Card payments fail for 3% of customers").first()).toBeVisible();

  // One Banking owner is the whole approval of this path.
  const ben = await as(browser, "ben");
  await ben.goto(url);
  await ben.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(ben.getByRole("status")).toContainText("You approved request");

  // Deployed despite the freeze, and its post-implementation review is open for the owners.
  await expect(olga.getByTestId("state")).toHaveText("succeeded", { timeout: 90_000 });
  await expect(olga.getByTestId("tickets")).toContainText("Post-implementation review of an emergency change");
  await olga.goto("/tickets?state=open");
  await expect(olga.getByTestId("tickets")).toContainText("Banking owners");
});
