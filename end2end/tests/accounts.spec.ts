import { expect, signIn, waitForHydration, test } from "./helpers";

test("an administrator creates an account, the person signs in, and disabling them signs them out at once", async ({ page, browser }) => {
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await signIn(page, "root");
  await page.goto("/admin/users");
  await waitForHydration(page);
  // A display name that is a script shows as text, never runs.
  const name = `Grace <img src=x onerror=alert(1)> Hopper`;
  await page.getByLabel("User name").fill("grace");
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Email (optional)").fill("grace@example.com");
  await page.getByRole("group", { name: "Teams" }).getByLabel("Fintech").check();
  await page.getByRole("button", { name: "Create the account" }).click();
  await expect(page.getByRole("status")).toContainText("The password of grace is below");
  const password = (await page.getByTestId("secret").textContent())?.trim() ?? "";
  expect(password.length).toBeGreaterThanOrEqual(16);
  const row = page.locator('tr[data-user="grace"]');
  await expect(row).toContainText(name);
  await expect(row).toContainText("fintech");
  await expect(page.getByTestId("admin-trail")).toContainText("created grace");

  // Grace signs in elsewhere with the password shown once.
  const other = await browser.newContext();
  const grace = await other.newPage();
  await signIn(grace, "grace", password);
  await expect(grace).toHaveURL(/\/$/);
  await grace.goto("/board");
  await expect(grace.getByRole("heading", { name: "Requests" })).toBeVisible();

  // Disabled: her next page asks her to sign in, and her password no longer works.
  await page.goto("/admin/users?q=grace");
  await waitForHydration(page);
  await page.locator('tr[data-user="grace"]').getByRole("button", { name: "Disable" }).click();
  await expect(page.getByRole("status")).toContainText("grace is disabled");
  await expect(page.locator('tr[data-user="grace"]')).toContainText("disabled");
  await grace.goto("/board");
  await expect(grace).toHaveURL(/\/login/);
  await signIn(grace, "grace", password);
  await expect(grace.getByRole("alert")).toContainText("disabled");
  await other.close();
  expect(dialogs).toEqual([]);
});
