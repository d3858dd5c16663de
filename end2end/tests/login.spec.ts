import { expect, signIn, waitForHydration, test } from "./helpers";

test("a requester sees the applications their team may release", async ({ page }) => {
  await signIn(page, "ada");
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "What you can release" })).toBeVisible();
  await expect(page.locator("#app-banking")).toBeVisible();
  await expect(page.locator("#app-banking")).toContainText(
    "Production: 1 of Banking owners, then 2 of CAB; you cannot approve your own request",
  );
  await expect(page.locator("#app-storefront")).toHaveCount(0);
  await expect(page.locator(".user-name")).toHaveText("Ada Lovelace");
});

test("the page hydrates and navigates without a full reload", async ({ page }) => {
  await signIn(page, "wes");
  await waitForHydration(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByRole("link", { name: "Catalog" }).click();
  await expect(page.getByRole("heading", { name: "Catalog", exact: true })).toBeVisible();
  await expect(page.locator("#app-storefront")).toContainText("Staging: no approval needed");
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test("a wrong password shows one generic message", async ({ page }) => {
  await signIn(page, "ada", "not-the-password");
  await expect(page).toHaveURL(/\/login\?error=credentials/);
  await expect(page.getByRole("alert")).toHaveText("Wrong user name or password.");
  await expect(page.getByLabel("User name")).toHaveValue("ada");
});

test("signing out returns to the login page and the old cookie no longer works", async ({ page, browser }) => {
  await signIn(page, "olga");
  await expect(page.locator(".user-name")).toHaveText("Olga Ops");
  const cookies = await page.context().cookies();
  expect(cookies.some((c) => c.name === "runway_session" && c.httpOnly)).toBe(true);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?bye=1/);
  await expect(page.getByText("You are signed out.")).toBeVisible();

  const replay = await browser.newContext();
  await replay.addCookies(cookies);
  const stale = await replay.newPage();
  await stale.goto("/catalog");
  await expect(stale).toHaveURL(/\/login\?next=%2Fcatalog/);
  await replay.close();
});

test("the login page lists the demo accounts", async ({ page }) => {
  await page.goto("/login");
  const demo = page.getByRole("region", { name: "Demo accounts" });
  await expect(demo).toContainText("runway-demo");
  for (const name of ["ada", "ben", "cleo", "dev", "olga", "wes", "root"]) {
    await expect(demo.locator("code", { hasText: new RegExp(`^${name}$`) })).toHaveCount(1);
  }
});
