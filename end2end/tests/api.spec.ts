import { expect, signIn, waitForHydration, test } from "./helpers";

test("an administrator makes an API token, a pipeline uses it, and the gate page explains the answers", async ({ page, request }) => {
  await signIn(page, "root");
  await page.goto("/admin/tokens");
  await waitForHydration(page);
  await page.getByLabel("Name").fill("Jenkins banking");
  await page.getByLabel("Applications (ids, or * for every application)").fill("banking");
  await page.getByRole("button", { name: "Make the token" }).click();
  const secret = (await page.getByTestId("secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^rwy_[0-9a-f]{48}$/);
  await expect(page.getByTestId("tokens")).toContainText("Jenkins banking");

  // The pipeline asks the gate with it: denied, no request covers this release.
  const answer = await request.post("/api/v1/gate", {
    headers: { Authorization: `Bearer ${secret}` },
    data: { application: "banking", environment: "staging", version: "8.8.8", actor: "web" },
  });
  expect(answer.status()).toBe(200);
  const body = await answer.json();
  expect(body.decision).toBe("deny");
  expect(body.rule).toBe("actor");

  // The gate page lists that answer and answers a dry run with the same explanation.
  await page.goto("/gate");
  await waitForHydration(page);
  await expect(page.getByTestId("gate-checks")).toContainText("team Web may not deploy Banking to Staging");
  await page.getByLabel("Application").selectOption("banking");
  await page.getByLabel("Environment").selectOption("production");
  await page.getByLabel("Version", { exact: true }).fill("2.4.0");
  await page.getByLabel("Actor: user or team (optional)").fill("fintech");
  await page.getByLabel("At (UTC; now when empty)").fill("2026-12-24T10:00");
  await page.getByRole("button", { name: "Ask the gate" }).click();
  const dry = page.getByTestId("gate-answer");
  await expect(dry).toContainText("deny");
  await expect(dry).toContainText("no request asks for Banking 2.4.0 to Production");

  // Revoked: the pipeline is refused.
  await page.goto("/admin/tokens");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Revoke" }).first().click();
  await expect(page.getByTestId("tokens")).toContainText("revoked");
  const refused = await request.post("/api/v1/gate", {
    headers: { Authorization: `Bearer ${secret}` },
    data: { application: "banking", environment: "staging", version: "8.8.8" },
  });
  expect(refused.status()).toBe(401);
});
