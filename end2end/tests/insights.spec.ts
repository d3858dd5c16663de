import { expect, signIn, test } from "./helpers";

test("insights show the four DORA metrics, follow their filters and export their deployments", async ({ page }) => {
  await signIn(page, "olga");
  await page.getByRole("link", { name: "Insights", exact: true }).click();
  await expect(page).toHaveURL(/\/insights$/);
  await expect(page.getByRole("heading", { name: "Insights", level: 1 })).toBeVisible();
  for (const key of ["frequency", "lead-time", "failure-rate", "recovery"]) {
    const card = page.getByTestId(`metric-${key}`);
    await expect(card).toBeVisible();
    await expect(card.locator("svg[role=img] rect.bar")).toHaveCount(13);
    await expect(card.getByTestId("figure")).not.toBeEmpty();
  }
  await expect(page.getByTestId("insights-summary")).toContainText("to production");
  await expect(page.getByTestId("cluster")).toContainText("Overall");
  const lead = page.getByTestId("lead-time");
  await expect(lead.getByRole("heading", { name: "Where lead time goes" })).toBeVisible();
  await expect(lead.getByTestId("slowest-stages")).toBeVisible();
  await expect(lead.getByTestId("team-answers")).toBeVisible();

  await page.getByLabel("Environment").selectOption("staging");
  await page.getByLabel("Period").selectOption("30");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/env=staging/);
  await expect(page).toHaveURL(/days=30/);
  await expect(page.getByTestId("insights-summary")).toContainText("to staging");
  // Thirty days make five weeks of trend.
  await expect(page.getByTestId("metric-frequency").locator("rect.bar")).toHaveCount(5);

  const link = page.getByTestId("insights-csv");
  await expect(link).toHaveAttribute("href", /env=staging.*days=30/);
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toBe("runway-deployments.csv");
  const body = await (await download.createReadStream()).toArray();
  expect(Buffer.concat(body).toString()).toMatch(/^request_id,application,environment,version/);
});
