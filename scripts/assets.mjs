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

// Copies left by earlier builds (hashed names and compressed files) go first.
const hashed = /^runway\.[A-Za-z0-9_-]{16}\.(js|wasm|css)(\.br|\.gz)?$/;
for (const file of readdirSync(pkg)) {
  if (hashed.test(file) || file.endsWith(".br") || file.endsWith(".gz")) {
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
    if (!COMPRESSIBLE.has(extname(file))) continue;
    const raw = readFileSync(path);
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    const gz = gzipSync(raw, { level: 9 });
    // A compressed copy no smaller than the file is of no use to anyone.
    if (br.length < raw.length) writeFileSync(`${path}.br`, br);
    if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz);
    sizes.push({ path, raw: raw.length, br: br.length, gz: gz.length });
  }
  return sizes;
}

for (const { path, raw, br, gz } of compressAll(site)) {
  if (hashed.test(path.split("/").pop())) {
    console.log(`assets: ${path}: ${raw} bytes, brotli ${br}, gzip ${gz}`);
  }
}
