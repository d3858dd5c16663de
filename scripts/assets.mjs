// Prepares the built site for serving: gives the bundle's files (JS, wasm, CSS, and when the build
// split the bundle, the chunk loader, its chunks and their manifest) names that carry a digest of
// their content, so that the portal may tell browsers to keep them for a year, and
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

function digestOf(bytes) {
  return createHash("sha256").update(bytes).digest("base64url").slice(0, 16);
}

// The bundle as the build names it; wasm-bindgen's `_bg` suffix depends on the build's settings.
const bundle = {
  js: `${name}.js`,
  wasm: existsSync(join(pkg, `${name}.wasm`)) ? `${name}.wasm` : `${name}_bg.wasm`,
  css: `${name}.css`,
};
for (const file of Object.values(bundle)) {
  if (!existsSync(join(pkg, file))) {
    console.error(`assets: ${join(pkg, file)} is missing: build the site first (make build-release)`);
    process.exit(1);
  }
}

// The loader of the lazily loaded chunks, when the bundle was split (`cargo leptos build --split`):
// the wasm files import it under this name, a placeholder as long as the digest that replaces it.
const PLACEHOLDER = "______________________";
const loader = `__wasm_split.${PLACEHOLDER}.js`;
const split = existsSync(join(pkg, loader));

// Copies left by builds before the last one go; the last one's stay, so that a page served by a
// replica not yet upgraded still finds its bundle during a rolling upgrade.
const hashed = /^.+\.([A-Za-z0-9_-]{16}|[A-Za-z0-9_-]{22})\.(js|wasm|css|json)(\.br|\.gz)?$/;
const previous = existsSync(join(site, "hash.txt"))
  ? new Set(readFileSync(join(site, "hash.txt"), "utf8").split("\n").map((l) => l.split(":")[1]?.trim()).filter(Boolean))
  : new Set();
for (const file of readdirSync(pkg)) {
  const digested = isDigested(file) && file.match(hashed);
  if (digested ? !previous.has(digested[1]) : file.endsWith(".br") || file.endsWith(".gz")) {
    unlinkSync(join(pkg, file));
  }
}

const lines = [];
const read = (file) => readFileSync(join(pkg, file));
// Every file's content as it will be served, by its plain name.
const content = new Map(Object.values(bundle).map((file) => [file, read(file)]));

if (split) {
  // Chunks are named by the loader that fetches them (`"./split_….wasm"`, `"./chunk_3.wasm"`),
  // not by what lies in the folder: an older build may have left others.
  const loaderText = read(loader).toString("utf8");
  const chunks = [...new Set([...loaderText.matchAll(/"\.\/([A-Za-z0-9_]+)\.wasm"/g)].map((m) => m[1]))];
  for (const chunk of chunks) content.set(`${chunk}.wasm`, read(`${chunk}.wasm`));
  // The loader's digest is taken over the whole split build, since the loader, the main module
  // and every chunk name one another.
  const whole = createHash("sha256");
  for (const file of [...content.keys(), loader].sort()) whole.update(file).update(read(file));
  const loaderDigest = whole.digest("base64url").slice(0, PLACEHOLDER.length);
  const loaderName = `__wasm_split.${loaderDigest}.js`;
  // In the wasm files the loader's name is replaced in place (it has the same length).
  for (const [file, bytes] of content) {
    if (file.endsWith(".wasm")) content.set(file, replaceBytes(bytes, loader, loaderName));
  }
  content.set(bundle.js, Buffer.from(content.get(bundle.js).toString("utf8").replaceAll(loader, loaderName)));
  const renamed = new Map();
  for (const chunk of chunks) {
    const hash = digestOf(content.get(`${chunk}.wasm`));
    renamed.set(chunk, `${chunk}.${hash}`);
    writeFileSync(join(pkg, `${chunk}.${hash}.wasm`), content.get(`${chunk}.wasm`));
    lines.push(`chunk: ${hash}`);
  }
  const jsName = `${name}.${digestOf(content.get(bundle.js))}.js`;
  let text = loaderText.replaceAll(`"./${name}.js"`, `"./${jsName}"`);
  for (const [chunk, digested] of renamed) text = text.replaceAll(`"./${chunk}.wasm"`, `"./${digested}.wasm"`);
  writeFileSync(join(pkg, loaderName), text);
  lines.push(`split: ${loaderDigest}`);
  // The server links the chunks a page needs from the manifest, by name without `.wasm`.
  const manifest = JSON.parse(read("__wasm_split_manifest.json").toString("utf8"));
  for (const key of Object.keys(manifest)) manifest[key] = manifest[key].map((c) => renamed.get(c) ?? c);
  const manifestText = Buffer.from(JSON.stringify(manifest, null, 2));
  const manifestHash = digestOf(manifestText);
  writeFileSync(join(pkg, `__wasm_split_manifest.${manifestHash}.json`), manifestText);
  lines.push(`manifest: ${manifestHash}`);
}

for (const [kind, file] of Object.entries(bundle)) {
  const hash = digestOf(content.get(file));
  // Leptos links `<output name>.<digest>.<kind>`.
  writeFileSync(join(pkg, `${name}.${hash}.${kind}`), content.get(file));
  lines.push(`${kind}: ${hash}`);
}
writeFileSync(join(site, "hash.txt"), lines.join("\n") + "\n");

function isDigested(file) {
  return !file.includes(PLACEHOLDER) && hashed.test(file);
}

function replaceBytes(bytes, from, to) {
  const [needle, replacement] = [Buffer.from(from), Buffer.from(to)];
  const out = Buffer.from(bytes);
  for (let at = out.indexOf(needle); at !== -1; at = out.indexOf(needle, at + needle.length)) {
    replacement.copy(out, at);
  }
  return out;
}

function compressAll(dir) {
  const sizes = [];
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    if (statSync(path).isDirectory()) {
      sizes.push(...compressAll(path));
      continue;
    }
    // In the bundle's folder only digested names are compressed: a build that leaves its files
    // under their plain names must not be answered with an older build's compressed copy.
    if (!COMPRESSIBLE.has(extname(file)) || (dir === pkg && !isDigested(file))) continue;
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
  if (isDigested(path.split("/").pop())) {
    console.log(`assets: ${path}: ${raw} bytes, brotli ${br}, gzip ${gz}`);
  }
}
