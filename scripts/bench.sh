#!/usr/bin/env bash
# Runway's benchmarks. Each figure is printed on its own line as `BENCH <name> <value> <unit>`.
# Needs the release build (`make bench` builds it first).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/runway
PKG=target/site/pkg
[ -x "$BIN" ] && [ -d "$PKG" ] || { echo "run 'cargo leptos build --release' first" >&2; exit 1; }

bench() { printf 'BENCH %s %s %s\n' "$1" "$2" "$3"; }

# --- Browser payload: what a first visit downloads (wasm + js + css), raw and gzipped.
raw_total=0; gz_total=0
for f in "$PKG"/runway.wasm "$PKG"/runway.js "$PKG"/runway.css; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  ext=${f##*.}
  bench "payload_${ext}_raw" $((raw / 1024)) KiB
  bench "payload_${ext}_gzip" $((gz / 1024)) KiB
  raw_total=$((raw_total + raw)); gz_total=$((gz_total + gz))
done
bench payload_total_raw $((raw_total / 1024)) KiB
bench payload_total_gzip $((gz_total / 1024)) KiB

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

# --- Idle memory: resident set of the last server, a few seconds after start and one page view.
curl -fs "http://127.0.0.1:$port/login" >/dev/null
sleep 3
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
bench idle_rss $((rss_kb / 1024)) MiB

# --- Approver queue and ops board with 100,000 requests stored, server-side render under load,
#     on SQLite and PostgreSQL (p50 / p99 over 8 concurrent clients).
cargo run --quiet --release -p server --example board_load

# --- The gate under load, 1,000,000 requests stored, 64 connections, beside a bare axum handler.
cargo run --quiet --release -p server --example gate_load

# --- Final approval → CI call latency over 200 requests, shell connector, SQLite.
cargo run --quiet --release -p server --example dispatch_latency
