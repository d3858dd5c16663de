import { expect, fillRelease, signedIn, waitForHydration, test } from "./helpers";

test("the calendar shows a scheduled deployment, a change window and a freeze", async ({ browser }) => {
  const ada = await signedIn(browser, "ada");
  // Scheduled for Monday 21 December 2026, 10:00 in Paris: inside the year-end freeze, so the
  // request page warns of it.
  const release = { version: "2.9.0", summary: "Statements in the new layout", risk: "low", rollback: "Redeploy 2.8.0", ticket: "CHG-3001", impact: "none" } as const;
  await fillRelease(ada, "banking", "staging", release);
  await ada.getByLabel("At a set time:").check();
  await ada.getByLabel("Scheduled time").fill("2026-12-21T10:00");
  await ada.getByLabel("Time zone").fill("Europe/Paris");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  await expect(ada).toHaveURL(/\/requests\/\d+$/);
  const id = ada.url().split("/").pop();
  await ada.goto("/calendar?week=2026-W52&application=banking");
  await expect(ada.locator('[data-date="2026-12-21"] .entry')).toContainText("awaiting approval");
  // Once the owner approves, it is a scheduled deployment.
  const ben = await signedIn(browser, "ben");
  await ben.goto(`/requests/${id}`);
  await ben.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(ben.getByRole("status")).toContainText("You approved request");

  await ada.goto("/calendar?week=2026-W52&application=banking");
  await waitForHydration(ada);
  await expect(ada.getByRole("heading", { level: 1 })).toHaveText("Change calendar: Week 52, 2026 (21 Dec – 27 Dec)");
  const monday = ada.locator('[data-date="2026-12-21"]');
  await expect(monday.locator(".entry")).toContainText(`#${id} Banking 2.9.0 → Staging — scheduled`);
  await expect(monday.locator(".window")).toContainText("Business hours");
  await expect(monday.locator(".freeze")).toContainText("Year-end closing");
  // The week links to its neighbours and its month; the filter keeps to Banking.
  await ada.getByRole("link", { name: "Next →" }).click();
  await expect(ada).toHaveURL(/week=2026-W53&application=banking/);
  await ada.getByRole("link", { name: "Month view" }).click();
  await expect(ada.getByRole("heading", { level: 1 })).toHaveText("Change calendar: December 2026");
});
