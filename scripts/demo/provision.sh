#!/bin/sh
# Demo CI job: provisions an environment as a folder under the portal's data directory.
# Runway's shell connector runs it with the job's parameters as environment variables.
set -eu
site="${RUNWAY_SITE:?RUNWAY_SITE is required}"
root="${RUNWAY_DATA_DIR:-./data}/sites/$site"
pause="${DEMO_PAUSE:-1}"
echo "Provisioning $site"
for part in network storage "web server"; do
  sleep "$pause"
  echo "  $part ready"
done
mkdir -p "$root/releases"
echo "Environment $site provisioned at $root"
