// Time from navigation to a hydrated page in Chromium, with the CPU slowed four times, on a
// 10 Mbps / 40 ms link and on DevTools' "fast 3G" (1.44 Mbps down, 675 kbps up, 562.5 ms), for
// the request page, the approver queue and Insights (a lazy page), median of five cold loads; then
// what a repeat visit fetches again. Times are the browser's own, from the navigation's start to
// the mark the bundle sets once the page is hydrated.
// Usage: node bench/first-load.mjs <portal URL>   (a portal with the demo users; `make bench`)
// Prints `BENCH <name> <value> <unit>` lines.

import { chromium } from "@playwright/test";
import { untilHydrated } from "./hydrated.mjs";

const base = process.argv[2];
if (!base) {
  console.error("usage: node bench/first-load.mjs <portal URL>");
  process.exit(2);
}
const PASSWORD = "runway-demo";
const PROFILES = {
  "10mbps": { latency: 40, downloadThroughput: (10e6 / 8), uploadThroughput: (10e6 / 8) },
  fast3g: { latency: 562.5, downloadThroughput: (1.44e6 / 8), uploadThroughput: (675e3 / 8) },
};
const RUNS = 5;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});

async function signedIn(user) {
  const context = await browser.newContext({ baseURL: base });
  const answer = await context.request.post("/login", {
    form: { username: user, password: PASSWORD, next: "" },
    maxRedirects: 0,
  });
  if (answer.status() !== 303) throw new Error(`${user} cannot sign in: ${answer.status()}`);
  return context;
}

// A request to look at, opened by Ada through the plain form.
const ada = await signedIn("ada");
const opened = await ada.request.post("/requests", {
  form: {
    app: "banking", env: "production", version: "9.9.9", summary: "First-load benchmark",
    risk: "low", rollback_plan: "Redeploy the previous version", when: "asap", timezone: "UTC",
    "fields.change_ticket": "CHG-1", "fields.customer_impact": "none",
  },
  maxRedirects: 0,
});
const requestPage = opened.headers()["location"];
if (!requestPage) throw new Error(`the request was not opened: ${opened.status()}`);
const ben = await signedIn("ben");
const olga = await signedIn("olga");

/** Navigates `page` to `path` under `profile`; milliseconds until hydrated, and the bundle's
 * files fetched from the network (not from the browser's cache). */
async function visit(context, path, profile, cold) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: cold });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, ...PROFILES[profile] });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let fetched = 0;
  cdp.on("Network.responseReceived", ({ response }) => {
    const cached = response.fromDiskCache || response.fromMemoryCache || response.fromPrefetchCache;
    if (response.url.includes("/pkg/") && !cached) fetched += 1;
  });
  await page.goto(path, { waitUntil: "commit" });
  await untilHydrated(cdp);
  // From the start of the navigation, on the browser's clock: when the bundle was ready to start
  // (fetched, compiled, instantiated) and when the page was hydrated, from the marks it sets.
  const [ready, hydrated] = await page.evaluate(() =>
    ["runway-hydrate-start", "runway-hydrated"].map((m) => performance.getEntriesByName(m)[0]?.startTime ?? NaN),
  );
  const ms = Math.round(hydrated);
  await page.close();
  return { ms, fetched, ready: Math.round(ready), hydrating: Math.round(hydrated - ready) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Insights is a lazy page: its chunk comes on top of the main bundle.
const pages = [["request_page", ada, requestPage], ["approvals", ben, "/approvals"], ["insights", olga, "/insights"]];
for (const [name, context, path] of pages) {
  for (const profile of Object.keys(PROFILES)) {
    const runs = [];
    for (let run = 0; run < RUNS; run++) runs.push(await visit(context, path, profile, true));
    console.log(`BENCH first_load_${name}_${profile} ${median(runs.map((r) => r.ms))} ms`);
    console.log(`BENCH first_load_${name}_${profile}_bundle_ready ${median(runs.map((r) => r.ready))} ms`);
    console.log(`BENCH first_load_${name}_${profile}_hydrating ${median(runs.map((r) => r.hydrating))} ms`);
  }
}
// A repeat visit, the bundle in the browser's cache from the visit before.
await visit(ada, requestPage, "10mbps", false);
const again = await visit(ada, requestPage, "10mbps", false);
console.log(`BENCH repeat_visit_request_page_10mbps ${again.ms} ms`);
console.log(`BENCH repeat_visit_bundle_files_fetched ${again.fetched} files`);
await browser.close();
