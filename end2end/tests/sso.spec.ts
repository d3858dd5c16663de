import { expect, test } from "./helpers";
import { oidcPort } from "../playwright.config";

/** Signs in through the real OpenID provider's own login page, as `who`. */
async function throughProvider(page: import("@playwright/test").Page, who: string) {
  await page.goto("/login");
  await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
  await expect(page).toHaveURL(new RegExp(`127\\.0\\.0\\.1:${oidcPort}/interaction/`));
  await page.locator('input[name="login"]').fill(who);
  await page.locator('input[name="password"]').fill("any password works here");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

test("people sign in with the company's identity provider and land with the teams of their groups", async ({ page, browser }) => {
  await throughProvider(page, "fiona");
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/$/);
  const me = page.locator("a.user-name");
  await expect(me).toHaveText("Fiona Fintech");
  await expect(me).toHaveAttribute("title", "Fintech");

  // Another person, in other groups, in another browser.
  const other = await browser.newContext();
  const walt = await other.newPage();
  await throughProvider(walt, "walt");
  await expect(walt.locator("a.user-name")).toHaveText("Walt Web");
  await expect(walt.locator("a.user-name")).toHaveAttribute("title", "Web");
  await other.close();

  // Both joined through the provider, as the administration trail says.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("User name").fill("root");
  await page.getByLabel("Password").fill("runway-demo");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.goto("/admin/users");
  await expect(page.getByTestId("admin-trail")).toContainText("joined as fiona (Fiona Fintech) through the identity provider, in fintech");
  await expect(page.getByTestId("admin-trail")).toContainText("joined as walt (Walt Web) through the identity provider, in web");
  // Their teams and sign-in are the provider's: no team form, no password to reset.
  const row = page.locator('tr[data-user="fiona"]');
  await expect(row).toContainText("Teams and sign-in from the identity provider");
  await expect(row.getByRole("button", { name: "Reset password" })).toHaveCount(0);
});
