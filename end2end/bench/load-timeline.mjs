// Where a cold first load goes: one traced load of a page in Chromium, with the CPU slowed four
// times on a 10 Mbps / 40 ms link, printed as a timeline of the page's own requests and of the
// main thread's longer tasks (parsing, layout, wasm compiling, hydrating), in ms from the page's
// request. Usage: [WARM=1] node bench/load-timeline.mjs <portal URL> <demo user> <path>
import { chromium } from "@playwright/test";
import { untilHydrated } from "./hydrated.mjs";

const [base, user, path] = process.argv.slice(2);
if (!path) {
  console.error("usage: node bench/load-timeline.mjs <portal URL> <demo user> <path>");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const context = await browser.newContext({ baseURL: base });
await context.request.post("/login", { form: { username: user, password: "runway-demo", next: "" }, maxRedirects: 0 });
// WARM=1: a repeat visit, the bundle in the browser's cache from a visit just before.
const warm = process.env.WARM === "1";
if (warm) {
  const first = await context.newPage();
  await first.goto(path, { waitUntil: "load" });
  await first.close();
}
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send("Network.enable");
await cdp.send("Network.setCacheDisabled", { cacheDisabled: !warm });
await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 });
await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
await browser.startTracing(page, { categories: ["devtools.timeline", "v8.execute", "blink.user_timing", "loading", "v8.wasm"] });
await page.goto(path, { waitUntil: "commit" });
await untilHydrated(cdp);
const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
const marks = await page.evaluate(() => performance.getEntriesByType("mark").map((m) => `${m.name} ${Math.round(m.startTime)} ms`));
await browser.close();

const origin = new URL(base).host;
const own = (e) => (e.args?.data?.url ?? "").includes(origin);
const parse = events.find((e) => e.name === "ParseHTML");
const t0 = events.find((e) => e.name === "ResourceSendRequest" && own(e)).ts;
const shown = new Set(["ParseHTML", "EvaluateScript", "v8.evaluateModule", "UpdateLayoutTree", "Layout", "Paint",
  "v8.wasm.compileConsume", "wasm.SyncInstantiate", "FunctionCall", "MarkDOMContent", "MarkLoad"]);
const lines = events
  .filter((e) => e.pid === parse.pid && e.ts >= t0 && (
    ((e.name === "ResourceSendRequest" || e.name === "ResourceFinish") && (own(e) || e.name === "ResourceFinish")) ||
    (shown.has(e.name) && e.tid === parse.tid && (e.dur ?? 2000) >= 2000)))
  .sort((a, b) => a.ts - b.ts);
const names = new Map(events.filter((e) => e.name === "ResourceSendRequest").map((e) => [e.args.data.requestId, e.args.data.url]));
for (const e of lines) {
  const url = e.args?.data?.url ?? names.get(e.args?.data?.requestId) ?? "";
  if (e.name === "ResourceFinish" && !url.includes(origin)) continue;
  const at = ((e.ts - t0) / 1000).toFixed(0).padStart(5);
  const took = e.dur ? `+${(e.dur / 1000).toFixed(0)}`.padStart(5) : "     ";
  console.log(`${at} ${took} ${e.name} ${url.split("/").pop()}`);
}
console.log(`marks (from the navigation's start): ${marks.join(", ")}`);
