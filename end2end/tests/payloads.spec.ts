// The payload sweep: script payloads typed into every free-text input the portal keeps (request
// form, catalog, decisions, tickets, token names, pipeline-opened requests, stage and metric
// names) are stored, then every page that shows them is opened by each kind of user in
// Chromium. No dialog may open, no payload may set its marker, and the text reads back as typed.
import { Browser, Page } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { expect, signIn, waitForHydration, test } from "./helpers";
import { portalBin } from "../playwright.config";

const port = Number(process.env.E2E_PORT ?? 3311) + 30;
const base = `http://127.0.0.1:${port}`;
const dataDir = "../target/e2e-payloads";

// Each breaks out of one context: <title>, an attribute, a <script> (JSON), a <textarea>, a link.
const P = {
  title: `</title><script>window.__pwned='title';alert(1)</script>`,
  attr: `"><img src=x onerror="window.__pwned='attr';alert(2)">'`,
  script: `</script><script>window.__pwned='script';alert(3)</script><!--`,
  textarea: `</textarea><svg onload="window.__pwned='textarea';alert(4)">`,
  link: `javascript:window.__pwned='link';alert(5)//`,
};
const ALL = Object.values(P).join(" ");

let portal: ChildProcess;

/** The demo catalog with payloads in names, descriptions, labels, help, stages and reasons. */
function hostileCatalog(): string {
  const toml = (s: string) => JSON.stringify(s);
  return fs
    .readFileSync("../catalog/demo.toml", "utf8")
    .replaceAll('"scripts/demo/', '"../scripts/demo/')
    .replace('name = "Banking"', `name = ${toml("Banking " + P.title)}`)
    .replace(
      'description = "Accounts, ledger and payments for retail customers."',
      `description = ${toml(P.attr + P.link)}`,
    )
    .replace('label = "Change ticket"', `label = ${toml("Change ticket " + P.script)}`)
    .replace(
      'help = "The change record in the service desk, e.g. CHG-1042."',
      `help = ${toml(P.textarea)}`,
    )
    .replace('name = "Owner review"', `name = ${toml("Owner review " + P.attr)}`)
    .replace('description = "Builds the banking products."', `description = ${toml(ALL)}`)
    .replace(
      'reason = "Year-end closing: no production changes to banking systems."',
      `reason = ${toml(P.title + P.script)}`,
    );
}

test.beforeAll(async () => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(`${dataDir}/catalog.toml`, hostileCatalog());
  portal = spawn(portalBin, ["serve"], {
    stdio: "ignore",
    env: {
      ...process.env,
      RUNWAY_LISTEN: `127.0.0.1:${port}`,
      RUNWAY_DATA_DIR: dataDir,
      RUNWAY_DEMO: "true",
      RUNWAY_CATALOG: `${dataDir}/catalog.toml`,
      RUNWAY_SITE_DIR: "../target/site",
      RUNWAY_LOG: "warn",
      RUNWAY_DISPATCH: "false",
    },
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the portal with the hostile catalog did not start");
});

test.afterAll(() => {
  portal?.kill();
});

/** A signed-in page that records every dialog that opens. */
async function as(browser: Browser, user: string, dialogs: string[]): Promise<Page> {
  const page = await (await browser.newContext({ baseURL: base })).newPage();
  page.on("dialog", async (d) => {
    dialogs.push(`${user}: ${d.message()}`);
    await d.dismiss();
  });
  await signIn(page, user);
  return page;
}

/** Opens `path`, lets it hydrate, and checks no payload ran. */
async function visit(page: Page, path: string, dialogs: string[]) {
  await page.goto(path);
  await waitForHydration(page);
  await unharmed(page, path, dialogs);
}

async function unharmed(page: Page, path: string, dialogs: string[]) {
  await page.waitForTimeout(150);
  const marker = await page.evaluate(() => (window as any).__pwned);
  expect(marker, `a payload ran on ${path}`).toBeUndefined();
  expect(dialogs, `dialogs on ${path}`).toEqual([]);
  // Every link is a link: no payload became a javascript: address.
  const hrefs = await page.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
  expect(hrefs.filter((h) => h.trim().toLowerCase().startsWith("javascript:")), path).toEqual([]);
}

test("script payloads in every free-text input are shown as text on every page", async ({ browser }) => {
  test.setTimeout(120_000);
  const dialogs: string[] = [];

  // A requester types payloads into every field of the form; the refused first try gives them
  // back in the inputs and the textarea as typed.
  const ada = await as(browser, "ada", dialogs);
  await ada.goto("/requests/new?app=banking&env=staging");
  await waitForHydration(ada);
  await ada.fill("[name=version]", "2.4.0 bad");
  await ada.fill("[name=title]", P.title);
  await ada.fill("[name=summary]", P.textarea + "\n" + P.script);
  await ada.selectOption("[name=risk]", "high");
  await ada.fill("[name=rollback_plan]", P.attr);
  await ada.fill("[name='fields.change_ticket']", P.link);
  await ada.selectOption("[name='fields.customer_impact']", "none");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  await expect(ada.getByRole("alert").first()).toBeVisible();
  await waitForHydration(ada);
  await unharmed(ada, "the refused form", dialogs);
  await expect(ada.locator("[name=title]")).toHaveValue(P.title);
  await expect(ada.locator("[name=summary]")).toHaveValue(P.textarea + "\n" + P.script);
  await expect(ada.locator("[name=rollback_plan]")).toHaveValue(P.attr);
  await ada.fill("[name=version]", "2.4.0");
  await ada.getByRole("button", { name: "Submit the request" }).click();
  await expect(ada).toHaveURL(/\/requests\/\d+$/);
  const formRequest = new URL(ada.url()).pathname;
  await visit(ada, formRequest, dialogs);
  expect(await ada.title()).toBe(`#${formRequest.split("/").pop()} ${P.title} · Runway`);
  await expect(ada.locator("h1")).toContainText(P.title);
  await expect(ada.locator("body")).toContainText(P.attr);
  await visit(ada, `${formRequest}/edit`, dialogs);
  await expect(ada.locator("[name=summary]")).toHaveValue(P.textarea + "\n" + P.script);

  // An approver rejects with a comment made of payloads.
  const ben = await as(browser, "ben", dialogs);
  await visit(ben, formRequest, dialogs);
  await ben.getByLabel("Comment (required to reject)").fill(ALL);
  await ben.getByRole("button", { name: "Reject", exact: true }).click();
  await expect(ben.getByTestId("state")).toHaveText("rejected");
  await expect(ben.locator(".timeline")).toContainText(ALL);

  // An administrator names a token with a payload; a pipeline uses it.
  const root = await as(browser, "root", dialogs);
  await visit(root, "/admin/tokens", dialogs);
  await root.getByLabel("Name", { exact: true }).fill(P.attr.slice(0, 70));
  await root.getByLabel("events:write").check();
  await root.getByLabel("requests:write").check();
  await root.getByLabel("Applications (ids, or * for every application)").fill("*");
  await root.getByLabel(/Acts as/).fill("ada");
  await root.getByRole("button", { name: "Make the token" }).click();
  const secret = (await root.getByTestId("secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^rwy_/);
  await expect(root.getByTestId("tokens")).toContainText(P.attr.slice(0, 70));

  const api = async (path: string, data: object) => {
    const resp = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
    return { status: resp.status, body: await resp.json() };
  };
  const opened = await api("/api/v1/requests", {
    application: "banking",
    environment: "staging",
    version: "2.5.0",
    title: P.script,
    summary: ALL,
    rollback_plan: P.textarea,
    fields: { change_ticket: P.title, customer_impact: "none" },
  });
  expect(opened.status).toBe(201);
  const pipelineRequest = `/requests/${opened.body.id}`;
  // Stage and metric names are plain words: payloads are refused, naming the field.
  const badStage = await api(`/api/v1/requests/${opened.body.id}/events`, { stage: P.title, status: "failed" });
  expect(badStage.status).toBe(422);
  expect(JSON.stringify(badStage.body)).toContain("stage");
  const badMetric = await api(`/api/v1/requests/${opened.body.id}/events`, {
    stage: "unit tests",
    status: "succeeded",
    metrics: { [P.attr]: 1 },
  });
  expect(badMetric.status).toBe(422);
  // A failed stage raises a ticket for Fintech, whose comment is a payload too.
  const failed = await api(`/api/v1/requests/${opened.body.id}/events`, {
    stage: "integration tests",
    status: "failed",
    metrics: { tests_failed: 3 },
  });
  expect(failed.status).toBe(201);
  await visit(ada, "/tickets", dialogs);
  await ada.locator("a[href^='/tickets/']").first().click();
  await waitForHydration(ada);
  const ticket = new URL(ada.url()).pathname;
  await ada.locator("textarea[name=comment]").fill(ALL);
  await ada.getByRole("button", { name: "Comment", exact: true }).click();
  await expect(ada.locator("body")).toContainText(ALL);

  // The requester cancels the pipeline's request, giving a payload as the reason.
  await visit(ada, pipelineRequest, dialogs);
  await ada.getByLabel("Reason for cancelling").fill(P.attr + P.title);
  await ada.getByRole("button", { name: "Cancel this request" }).click();
  await expect(ada.getByTestId("state")).toHaveText("cancelled");
  await expect(ada.locator(".timeline")).toContainText(P.attr + P.title);

  // Every page that shows any of it, as each kind of user.
  const olga = await as(browser, "olga", dialogs);
  const tour: [Page, string][] = [
    [ada, "/"],
    [ada, pipelineRequest],
    [ada, ticket],
    [ada, "/catalog"],
    [ada, "/requests/new?app=banking&env=production"],
    [ada, "/applications/banking/history"],
    [ben, "/approvals"],
    [ben, pipelineRequest],
    [olga, "/board"],
    [olga, `/board?q=${encodeURIComponent("script")}`],
    [olga, formRequest],
    [olga, "/tickets"],
    [root, "/gate"],
    [root, "/admin/tokens"],
    [root, "/catalog"],
  ];
  for (const [page, path] of tour) {
    await visit(page, path, dialogs);
  }
  await ada.goto(pipelineRequest);
  await waitForHydration(ada);
  await expect(ada.locator("h1")).toContainText(P.script);
  await expect(ada.locator("body")).toContainText(ALL);
  await ada.goto("/requests/new?app=banking&env=production");
  await expect(ada.locator("body")).toContainText("Change ticket " + P.script);
  await ada.goto("/applications/banking/history");
  await waitForHydration(ada);
  expect(await ada.title()).toBe(`Banking ${P.title} history · Runway`);
  expect(dialogs).toEqual([]);
});
