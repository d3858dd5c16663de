#!/usr/bin/env bash
# Adds up the passed/failed counts of the Rust and browser test runs into one closing line.
set -euo pipefail
passed=0; failed=0
for log in "$@"; do
  # cargo: "test result: ok. 35 passed; 0 failed; ..."
  while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < <(
    sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
  # Playwright: "  5 passed (8.0s)" and "  1 failed"
  p=$(sed -nE 's/^ *([0-9]+) passed \(.*/\1/p' "$log" | tail -1); passed=$((passed + ${p:-0}))
  f=$(sed -nE 's/^ *([0-9]+) failed$/\1/p' "$log" | tail -1); failed=$((failed + ${f:-0}))
done
echo "Summary: every test suite ran."
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
