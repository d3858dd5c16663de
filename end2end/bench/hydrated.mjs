// Waits, through the page's DevTools session, until the bundle has marked the page hydrated.
// It does not poll: Playwright's `waitForFunction` would inject its own script and poll on the
// page's (slowed) main thread, in the way of the very load being measured.
export async function untilHydrated(cdp, timeoutMs = 120_000) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page was not hydrated within ${timeoutMs} ms`)), timeoutMs);
  });
  const hydrated = cdp.send("Runtime.evaluate", {
    awaitPromise: true,
    expression: `new Promise((resolve) => {
      const done = () => performance.getEntriesByName("runway-hydrated").length > 0;
      if (done()) return resolve(true);
      new PerformanceObserver((_, observer) => {
        if (done()) { observer.disconnect(); resolve(true); }
      }).observe({ type: "mark" });
    })`,
  });
  try {
    await Promise.race([hydrated, late]);
  } finally {
    clearTimeout(timer);
  }
}
