import { Browser } from "@playwright/test";
import { deployPort } from "../playwright.config";
import { expect, fillRelease, Release, signedIn, submitRelease, waitForHydration, test } from "./helpers";

// The deployment portal (see deploy-stack.sh), whose clock starts on a Friday at 19:30 in the
// catalog's time zone (Europe/Paris): Banking production's window, Monday to Thursday, is closed.
const base = `http://127.0.0.1:${deployPort}`;
test.use({ baseURL: base });

const as = (browser: Browser, user: string) => signedIn(browser, user, base);

/** `utc` ("2026-12-14 08:00 UTC", as the portal writes times) as a weekday and time in Paris. */
function inParis(utc: string): string {
  const at = new Date(utc.replace(" UTC", "Z").replace(" ", "T"));
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Paris",
    weekday: "long",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(at);
}

const fix: Release = { version: "3.0.2", summary: "Fix card payments", risk: "medium", rollback: "Redeploy 3.0.1", ticket: "CHG-911", impact: "outage" };

test("on a Friday evening operations raise an emergency change that deploys outside the window and opens its review", async ({ browser }) => {
  test.setTimeout(120_000);
  // The normal path waits for the window: the request says so and offers Monday morning.
  const ada = await as(browser, "ada");
  await fillRelease(ada, "banking", "production", fix);
  await submitRelease(ada);
  await expect(ada.getByTestId("submitted-at")).toHaveText(/UTC$/);
  expect(inParis((await ada.getByTestId("submitted-at").textContent())!)).toMatch(/^Friday (19|2\d):\d\d$/);
  const warning = ada.getByTestId("warnings");
  await expect(warning).toContainText("Now is outside Business hours: the next allowed time is");
  const next = /the next allowed time is (\d{4}-\d\d-\d\d \d\d:\d\d UTC)/.exec((await warning.textContent())!)![1];
  expect(inParis(next)).toBe("Monday 09:00");
  await ada.getByRole("button", { name: "Cancel this request" }).click();
  await expect(ada.getByTestId("state")).toHaveText("cancelled");

  const olga = await as(browser, "olga");
  await fillRelease(olga, "banking", "production", fix);
  // Operations may not request Banking the normal way: the form offers the emergency path only.
  await expect(olga.getByLabel(/Normal/)).toBeDisabled();
  await expect(olga.getByLabel("Emergency (break-glass)")).toBeChecked();
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

  // Deployed at once on a Friday evening, and its post-implementation review is open for the owners.
  await expect(olga.getByTestId("state")).toHaveText("succeeded", { timeout: 90_000 });
  await expect(olga.getByTestId("tickets")).toContainText("Post-implementation review of an emergency change");
  await olga.goto("/tickets?state=open");
  await expect(olga.getByTestId("tickets")).toContainText("Banking owners");
});
