// Prepares the built site for serving: gives the bundle's files (JS, wasm, CSS) names that carry
// a digest of their content, so that the portal may tell browsers to keep them for a year, and
// writes a brotli and a gzip copy of every asset beside it, so that none is compressed again on
// each request. Usage: node scripts/assets.mjs [site dir, default target/site]
//
// The names are written to `<site>/hash.txt` (one `kind: digest` line each), which the portal
// reads at start: without that file it links the plain names and asks browsers to revalidate.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync, statSync, unlinkSync, existsSync } from "node:fs";
import { join, extname } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const site = process.argv[2] ?? "target/site";
const pkg = join(site, "pkg");
const name = "runway";
const COMPRESSIBLE = new Set([".js", ".wasm", ".css", ".svg", ".html", ".json", ".txt"]);

function digest(file) {
  return createHash("sha256").update(readFileSync(file)).digest("base64url").slice(0, 16);
}

// The bundle as the build names it; wasm-bindgen's `_bg` suffix depends on the build's settings.
const bundle = {
  js: `${name}.js`,
  wasm: existsSync(join(pkg, `${name}.wasm`)) ? `${name}.wasm` : `${name}_bg.wasm`,
  css: `${name}.css`,
};
for (const file of Object.values(bundle)) {
  if (!existsSync(join(pkg, file))) {
    console.error(`assets: ${join(pkg, file)} is missing: build the site first (cargo leptos build --release)`);
    process.exit(1);
  }
}

// Copies left by builds before the last one go; the last one's stay, so that a page served by a
// replica not yet upgraded still finds its bundle during a rolling upgrade.
const hashed = /^runway\.([A-Za-z0-9_-]{16})\.(js|wasm|css)(\.br|\.gz)?$/;
const previous = existsSync(join(site, "hash.txt"))
  ? new Set(readFileSync(join(site, "hash.txt"), "utf8").split("\n").map((l) => l.split(":")[1]?.trim()).filter(Boolean))
  : new Set();
for (const file of readdirSync(pkg)) {
  const digested = file.match(hashed);
  if (digested ? !previous.has(digested[1]) : file.endsWith(".br") || file.endsWith(".gz")) {
    unlinkSync(join(pkg, file));
  }
}

const lines = [];
for (const [kind, file] of Object.entries(bundle)) {
  const hash = digest(join(pkg, file));
  // Leptos links `<output name>.<digest>.<kind>`.
  writeFileSync(join(pkg, `${name}.${hash}.${kind}`), readFileSync(join(pkg, file)));
  lines.push(`${kind}: ${hash}`);
}
writeFileSync(join(site, "hash.txt"), lines.join("\n") + "\n");

function compressAll(dir) {
  const sizes = [];
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    if (statSync(path).isDirectory()) {
      sizes.push(...compressAll(path));
      continue;
    }
    // The plain names of the bundle are never compressed: a build that leaves them without
    // digests must not be answered with an older build's compressed copy.
    if (!COMPRESSIBLE.has(extname(file)) || Object.values(bundle).includes(file)) continue;
    if (/\.(br|gz)$/.test(file)) continue;
    const raw = readFileSync(path);
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    const gz = gzipSync(raw, { level: 9 });
    // A compressed copy no smaller than the file is of no use to anyone (and an older one goes).
    for (const [suffix, bytes] of [[".br", br], [".gz", gz]]) {
      if (bytes.length < raw.length) writeFileSync(`${path}${suffix}`, bytes);
      else if (existsSync(`${path}${suffix}`)) unlinkSync(`${path}${suffix}`);
    }
    sizes.push({ path, raw: raw.length, br: br.length, gz: gz.length });
  }
  return sizes;
}

for (const { path, raw, br, gz } of compressAll(site)) {
  if (hashed.test(path.split("/").pop())) {
    console.log(`assets: ${path}: ${raw} bytes, brotli ${br}, gzip ${gz}`);
  }
}
