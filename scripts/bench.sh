#!/usr/bin/env bash
# Runway's benchmarks. Each figure is printed on its own line as `BENCH <name> <value> <unit>`.
# Needs the release build (`make bench` builds it first).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/runway
PKG=target/site/pkg
[ -x "$BIN" ] && [ -d "$PKG" ] || { echo "run 'make build-release' first" >&2; exit 1; }

bench() { printf 'BENCH %s %s %s\n' "$1" "$2" "$3"; }

# --- Browser payload, as the build names it (digested): what every first visit downloads (the
#     main wasm, JS and CSS and the chunk loader), raw and gzipped, then each chunk of the lazily
#     loaded pages, fetched only when such a page is first opened.
[ -f target/site/hash.txt ] || { echo "run 'node scripts/assets.mjs target/site' first (make build-release does)" >&2; exit 1; }
digest_of() { awk -F': ' -v k="$1" '$1 == k {print $2}' target/site/hash.txt; }
raw_total=0; gz_total=0
for f in "$PKG/runway.$(digest_of wasm).wasm" "$PKG/runway.$(digest_of js).js" "$PKG/runway.$(digest_of css).css" \
  "$PKG/__wasm_split.$(digest_of split).js"; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  kind=${f##*.}; case "$f" in */__wasm_split.*) kind=loader_js ;; esac
  bench "payload_${kind}_raw" $((raw / 1024)) KiB
  bench "payload_${kind}_gzip" $((gz / 1024)) KiB
  raw_total=$((raw_total + raw)); gz_total=$((gz_total + gz))
done
bench payload_total_raw $((raw_total / 1024)) KiB
bench payload_total_gzip $((gz_total / 1024)) KiB
chunks_gz=0
for hash in $(digest_of chunk); do
  f=$(ls "$PKG"/*."$hash".wasm)
  gz=$(gzip -9 -c "$f" | wc -c)
  chunk=$(basename "$f" ".$hash.wasm")
  bench "chunk_${chunk}_gzip" $(( (gz + 1023) / 1024 )) KiB
  chunks_gz=$((chunks_gz + gz))
done
bench payload_lazy_chunks_gzip $((chunks_gz / 1024)) KiB

# --- Cold start: process start to /readyz answering, migrations on a fresh SQLite file.
port=$((20000 + RANDOM % 10000))
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
starts=()
for run in 1 2 3 4 5; do
  dir="$work/run$run"
  t0=$(date +%s%N)
  RUNWAY_LISTEN="127.0.0.1:$port" RUNWAY_DATA_DIR="$dir" RUNWAY_CATALOG=catalog/demo.toml \
    RUNWAY_LOG=warn "$BIN" serve >/dev/null 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "the server died" >&2; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  starts+=($(( (t1 - t0) / 1000000 )))
  if [ "$run" -lt 5 ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
done
sorted=($(printf '%s\n' "${starts[@]}" | sort -n))
bench cold_start_median "${sorted[2]}" ms
bench cold_start_max "${sorted[4]}" ms

# --- What a first visit to the sign-in page downloads as served (brotli negotiated), and which of
#     its assets a repeat visit would ask for again (any not kept for good).
page=$(curl -fs "http://127.0.0.1:$port/login")
visit=$(curl -fs -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: br' "http://127.0.0.1:$port/login")
again=0
# The chunk loader is not linked by the page but imported by the main module.
loader=$(digest_of split); loader=${loader:+/pkg/__wasm_split.$loader.js}
for asset in $( (grep -o '/pkg/[^"]*' <<<"$page"; echo "$loader") | grep . | sort -u); do
  size=$(curl -fs -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: br' "http://127.0.0.1:$port$asset")
  kept=$(curl -fsI -H 'Accept-Encoding: br' "http://127.0.0.1:$port$asset" | tr -d '\r' | grep -ci '^cache-control: .*immutable' || true)
  kind=${asset##*.}; case "$asset" in */__wasm_split.*) kind=loader_js ;; esac
  bench "served_br_$kind" $((size / 1024)) KiB
  visit=$((visit + size))
  [ "$kept" = 1 ] || again=$((again + 1))
done
bench first_visit_br $((visit / 1024)) KiB
bench repeat_visit_assets_fetched "$again" files

# --- Time to a hydrated page in Chromium, CPU slowed 4x, on 10 Mbps / 40 ms and on fast 3G
#     (request page, approver queue), and what a repeat visit fetches again: a portal of its own
#     with the demo users.
fl_port=$((port + 1))
RUNWAY_LISTEN="127.0.0.1:$fl_port" RUNWAY_DATA_DIR="$work/first-load" RUNWAY_CATALOG=catalog/demo.toml \
  RUNWAY_DEMO=true RUNWAY_DEMO_HISTORY=false RUNWAY_DISPATCH=false RUNWAY_LOG=warn "$BIN" serve >/dev/null 2>&1 &
fl_pid=$!
until curl -fs "http://127.0.0.1:$fl_port/readyz" >/dev/null 2>&1; do sleep 0.05; done
(cd end2end && node bench/first-load.mjs "http://127.0.0.1:$fl_port")
kill "$fl_pid"; wait "$fl_pid" 2>/dev/null || true

# --- Idle memory: resident set of the last server, a few seconds after start and one page view.
curl -fs "http://127.0.0.1:$port/login" >/dev/null
sleep 3
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
bench idle_rss $((rss_kb / 1024)) MiB

# --- Approver queue, a request's page and ops board with 100,000 requests stored, server-side
#     render under load,
#     on SQLite and PostgreSQL (p50 / p99 over 8 concurrent clients).
cargo run --quiet --release -p server --example board_load
# ... and the same with 1,000,000 requests stored (names end in `_1m`).
cargo run --quiet --release -p server --example board_load -- --requests 1000000

# --- The Insights page and the DORA API with 100,000 requests (their deployments, each with its
#     lead time taken apart) and 1,000,000 stage results stored, on SQLite and PostgreSQL.
cargo run --quiet --release -p server --example insights_load

# --- The gate under load, 1,000,000 requests stored, 64 connections, beside a bare axum handler.
cargo run --quiet --release -p server --example gate_load

# --- Final approval → CI call latency over 200 requests, shell connector, SQLite.
cargo run --quiet --release -p server --example dispatch_latency

# --- Notifications: submit p99 with a first stage of 2 and of 200 approvers; outbox throughput
#     to a local SMTP server, one worker.
cargo run --quiet --release -p server --example notify_load

# --- SQLite's log under five minutes of mixed writes (requests opened, approved and deployed,
#     pipelines asking the gate): the largest file seen.
cargo run --quiet --release -p server --example soak
