// Where a wasm file's code goes: the size of its function bodies summed by the crate that
// defined each function (read from the file's name section), largest first.
// Usage: node scripts/wasm-sizes.mjs <file.wasm> [how many crates, default 15]
// Prints `BENCH wasm_code_<crate> <KiB> KiB` lines; a file without names prints one line saying so.

import { readFileSync } from "node:fs";
import { basename } from "node:path";

const [file, top = "15"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node scripts/wasm-sizes.mjs <file.wasm> [how many crates]");
  process.exit(2);
}
const bytes = readFileSync(file);

let at = 8; // past the magic number and the version
function leb() {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return value;
}
function name() {
  const length = leb();
  const text = bytes.toString("utf8", at, at + length);
  at += length;
  return text;
}

let importedFunctions = 0;
const bodies = []; // body sizes of the defined functions, in order
const names = new Map(); // function index → name
while (at < bytes.length) {
  const id = bytes[at++];
  const size = leb();
  const end = at + size;
  if (id === 2) {
    for (let n = leb(); n > 0; n--) {
      name();
      name();
      const kind = bytes[at++];
      if (kind === 0) { leb(); importedFunctions++; }
      else if (kind === 1) { at++; limits(); }
      else if (kind === 2) limits();
      else if (kind === 3) at += 2;
      else if (kind === 4) { at++; leb(); }
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) {
      const length = leb();
      bodies.push(length);
      at += length;
    }
  } else if (id === 0 && name() === "name") {
    while (at < end) {
      const sub = bytes[at++];
      const subEnd = leb() + at;
      if (sub === 1) {
        for (let n = leb(); n > 0; n--) {
          const index = leb();
          names.set(index, name());
        }
      }
      at = subEnd;
    }
  }
  at = end;
}
function limits() {
  const flags = bytes[at++];
  leb();
  if (flags & 1) leb();
}

/** The crate a Rust symbol belongs to: for `<Type as Trait>::f`, the type's crate when the type
 * is named, else the trait's (a generic `T` tells nothing). */
function crateOf(symbol) {
  const legacy = symbol.match(/^_ZN(\d+)/);
  let text = symbol;
  if (legacy) {
    const parts = [];
    for (let at = 3; /\d/.test(symbol[at] ?? ""); ) {
      const digits = symbol.slice(at).match(/^\d+/)[0];
      at += digits.length;
      parts.push(symbol.slice(at, at + Number(digits)));
      at += Number(digits);
    }
    text = parts.join("::");
  }
  text = text
    .replaceAll("$LT$", "<").replaceAll("$GT$", ">").replaceAll("$RF$", "&").replaceAll("$u20$", " ")
    .replaceAll("$C$", ",").replaceAll("$BP$", "*").replaceAll("..", "::");
  const qualified = text.match(/^_?<(.*?) as ([^>]*)>/);
  const path = (t) => t.replace(/^[&*\s]*(mut\s+|dyn\s+|const\s+)?/, "").match(/^([A-Za-z_][A-Za-z0-9_]*)::/)?.[1];
  if (qualified) return path(qualified[1]) ?? path(qualified[2]) ?? "(other)";
  return path(text.replace(/^_?</, "")) ?? "(other)";
}

const total = bodies.reduce((a, b) => a + b, 0);
const kib = (n) => (n / 1024).toFixed(1);
const label = basename(file).replace(/\.wasm$/, "");
if (names.size === 0) {
  console.log(`# ${label}: ${kib(total)} KiB of code in ${bodies.length} functions; no name section to attribute it`);
  process.exit(0);
}
const byCrate = new Map();
bodies.forEach((size, i) => {
  const crate = crateOf(names.get(importedFunctions + i) ?? "");
  byCrate.set(crate, (byCrate.get(crate) ?? 0) + size);
});
console.log(`# ${label}: ${kib(total)} KiB of code in ${bodies.length} functions, by crate:`);
for (const [crate, size] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`BENCH wasm_code_${crate} ${kib(size)} KiB`);
}
