import { test as base, Browser, BrowserContext, expect, Page } from "@playwright/test";

/** Watches a context's pages for Content-Security-Policy violations, into `found`. */
async function watchPolicy(context: BrowserContext, found: string[]) {
  context.on("console", (msg) => {
    const line = `${msg.location().url || "page"}: ${msg.text()}`;
    if (msg.type() === "error" && /Content Security Policy|CSP violation/.test(line) && !found.includes(line)) {
      found.push(line);
    }
  });
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`),
    ),
  );
}

/**
 * The specs' `test`: every page a test opens (through its own `page` or any context it makes)
 * is watched, and a Content-Security-Policy violation on any of them fails the test.
 */
export const test = base.extend<{ policyViolations: string[]; policyWatch: void }>({
  policyViolations: async ({}, use) => {
    await use([]);
  },
  policyWatch: [
    async ({ browser, policyViolations }, use) => {
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const context = await newContext(options);
        await watchPolicy(context, policyViolations);
        return context;
      };
      await use();
      browser.newContext = newContext;
      expect(policyViolations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
  context: async ({ context, policyViolations }, use) => {
    await watchPolicy(context, policyViolations);
    await use(context);
  },
});

export const DEMO_PASSWORD = "runway-demo";

export async function signIn(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A page of its own (a new browser context) signed in as `username`, on `baseURL` if given. */
export async function signedIn(browser: Browser, username: string, baseURL?: string): Promise<Page> {
  const page = await (await browser.newContext(baseURL ? { baseURL } : {})).newPage();
  await signIn(page, username);
  return page;
}

/** Waits until the WebAssembly bundle has hydrated the page. */
export async function waitForHydration(page: Page) {
  await page.waitForFunction(() => (window as any).__runwayHydrated === true);
}

export { expect };

/** A release as the request form asks for it; `ticket` and `impact` are Banking's own fields. */
export interface Release {
  version: string;
  summary: string;
  risk: "low" | "medium" | "high";
  rollback?: string;
  ticket?: string;
  impact?: "none" | "degraded" | "outage";
}

/** Opens the request form for `app` and `env` and fills it in with `release`. */
export async function fillRelease(page: Page, app: string, env: string, release: Release) {
  await page.goto(`/requests/new?app=${app}&env=${env}`);
  await page.getByLabel("Version").fill(release.version);
  await page.getByLabel("Change summary").fill(release.summary);
  await page.getByLabel("Risk").selectOption(release.risk);
  await page.getByLabel("Rollback plan").fill(release.rollback ?? "Redeploy the previous version");
  if (release.ticket !== undefined) await page.getByLabel("Change ticket").fill(release.ticket);
  if (release.impact) await page.getByLabel("Customer impact").selectOption(release.impact);
}

/** Submits the filled-in form; the new request's address. */
export async function submitRelease(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Submit the request" }).click();
  await expect(page).toHaveURL(/\/requests\/\d+$/);
  return page.url();
}
