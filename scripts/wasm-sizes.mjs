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

/** The crate a (mangled or demangled) Rust symbol belongs to. */
function crateOf(symbol) {
  const legacy = symbol.match(/^_ZN(\d+)/);
  if (legacy) {
    const start = 3 + legacy[1].length;
    return symbol.slice(start, start + Number(legacy[1]));
  }
  const plain = symbol.replace(/^[<&*\s]+(mut\s+|dyn\s+)?/, "");
  const crate = plain.match(/^([A-Za-z_][A-Za-z0-9_]*)::/);
  return crate ? crate[1] : "(other)";
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
