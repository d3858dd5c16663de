import { Page } from "@playwright/test";
import { expect, signIn, test, waitForHydration } from "./helpers";

// The pages most people never open (administration, tickets, the gate, Insights, …) come in
// chunks of their own, fetched when first opened; everyone else's pages never download them.

/** The lazily loaded chunks `page` fetches from now on. */
function chunksFetched(page: Page): string[] {
  const chunks: string[] = [];
  page.on("response", (r) => {
    if (/\/pkg\/(split|chunk)_[^/]*\.wasm$/.test(r.url())) chunks.push(r.url());
  });
  return chunks;
}

/** Whether a click on a link in the (hydrated) navigation changes the page without loading a
 * new document: a marker set on the window before the click survives it. */
async function navigatesInPlace(page: Page, link: string, url: RegExp) {
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link, exact: true }).click();
  await expect(page).toHaveURL(url);
  expect(await page.evaluate(() => (window as any).__sameDocument === true)).toBe(true);
}

test("the approver's pages fetch no chunk; a lazy page fetches its own when first opened", async ({ page }) => {
  // The sign-in page is lazy itself: chunks are counted from the first page signed in.
  await signIn(page, "ben");
  await expect(page).not.toHaveURL(/\/login/);
  await page.reload();
  const chunks = chunksFetched(page);
  await waitForHydration(page);
  await navigatesInPlace(page, "Requests", /\/board$/);
  const answer = await page.goto("/approvals");
  await waitForHydration(page);
  expect(chunks).toEqual([]);
  // The chunk loader the main module imports is linked from the start, on every page.
  expect(await answer!.text()).toMatch(/<link rel="modulepreload" href="\/pkg\/__wasm_split\.[^"]+\.js"/);

  // Opened from the navigation: its chunk arrives with its data, and the page works.
  await navigatesInPlace(page, "Tickets", /\/tickets$/);
  await expect(page.getByRole("heading", { name: "Tickets", level: 1 })).toBeVisible();
  expect(chunks.some((url) => url.includes("/split___tickets_page_view_"))).toBe(true);
  await navigatesInPlace(page, "Home", /\/$/);
});

test("a lazy page opened directly hydrates once its chunk has arrived, and the chunk is kept for good", async ({ page, request }) => {
  await signIn(page, "root");
  await expect(page).not.toHaveURL(/\/login/);
  const chunks = chunksFetched(page);
  // The server's `<link rel=preload>` of the page's chunks is not asserted: leptos records the
  // chunks a page needs while rendering it and, under load, can miss them (the chunk is then
  // fetched once the bundle runs).
  await page.goto("/admin/tokens");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
  expect(chunks.some((url) => url.includes("/split___tokens_page_view_"))).toBe(true);
  // Hydrated: the navigation routes in place from the lazy page too.
  await navigatesInPlace(page, "Catalog", /\/catalog$/);
  await expect(page.getByRole("heading", { name: "Catalog", level: 1 })).toBeVisible();

  const chunk = await request.get(new URL(chunks.find((url) => url.includes("/split___tokens_page_view_"))!).pathname, { headers: { "Accept-Encoding": "br" } });
  expect(chunk.status()).toBe(200);
  expect(chunk.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(chunk.headers()["content-encoding"]).toBe("br");
});
