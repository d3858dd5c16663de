#!/usr/bin/env bash
# The deployment flow for the browser tests: a Buildbot master and worker on loopback and a
# portal (dispatch worker on) whose Banking staging deploys through them. Runs in the foreground
# until the tests end; the Buildbot processes are its children and stop with it.
set -euo pipefail
cd "$(dirname "$0")"
port=${1:?usage: deploy-stack.sh PORT}
root=../target/e2e-deploy
venv=${RUNWAY_TEST_BUILDBOT:-../.tools/buildbot}
[ -x "$venv/bin/buildbot" ] || { echo "no Buildbot in $venv: run 'make buildbot'" >&2; exit 1; }

rm -rf "$root" && mkdir -p "$root"
export BUILDBOT_WWW_PORT=$((port + 1)) BUILDBOT_PB_PORT=$((port + 2)) BUILDBOT_TEST_PASSWORD=bb-e2e
"$venv/bin/buildbot" create-master -r "$root/master" >/dev/null
cp ../scripts/buildbot/master.cfg "$root/master/master.cfg"
"$venv/bin/buildbot-worker" create-worker --umask=0o22 "$root/worker" "127.0.0.1:$BUILDBOT_PB_PORT" w1 worker-pass >/dev/null
python3 ../scripts/buildbot/catalog.py ../catalog/demo.toml "$root/catalog.toml" \
  "http://127.0.0.1:$BUILDBOT_WWW_PORT" BUILDBOT_TEST_PASSWORD
# The demo's shell jobs are found from the portal's folder (this one).
sed -i "s|\"scripts/demo/|\"$(cd .. && pwd)/scripts/demo/|g" "$root/catalog.toml"

"$venv/bin/buildbot" start --nodaemon "$root/master" >"$root/master.log" 2>&1 &
"$venv/bin/buildbot-worker" start --nodaemon "$root/worker" >"$root/worker.log" 2>&1 &
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM

# The portal's clock starts on the coming Friday at 19:30 in the catalog's time zone and runs on:
# Banking production's business hours (Monday to Thursday) are over, so only an emergency change
# that bypasses the windows deploys it (emergency.spec.ts). Buildbot keeps the real time.
command -v faketime >/dev/null || { echo "no faketime: run 'make chromium'" >&2; exit 1; }
TZ=Europe/Paris faketime -m --exclude-monotonic "next friday 19:30" \
  env RUNWAY_LISTEN="127.0.0.1:$port" RUNWAY_DATA_DIR="$root/data" RUNWAY_DEMO=true \
  RUNWAY_CATALOG="$root/catalog.toml" RUNWAY_SITE_DIR=../target/site RUNWAY_LOG=warn \
  "${E2E_PORTAL_BIN:-../target/release/runway}" serve
