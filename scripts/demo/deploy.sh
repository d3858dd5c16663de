#!/bin/sh
# Demo CI job: "deploys" a small static site of the requested version into the environment
# folder that provision.sh made, keeping each release and switching a `current` link.
set -eu
site="${RUNWAY_SITE:?RUNWAY_SITE is required}"
version="${RUNWAY_VERSION:?RUNWAY_VERSION is required}"
root="${RUNWAY_DATA_DIR:-./data}/sites/$site"
pause="${DEMO_PAUSE:-1}"
# The portal only sends plain versions; a job still never builds a path from anything else.
case "$version" in
  ''|.*|*..*|*[!A-Za-z0-9._+-]*) echo "refusing to deploy the version '$version'" >&2; exit 2 ;;
esac
region="${RUNWAY_REGION:-}"
case "$version" in
  *fail-*)
    # A version naming a region ("7.2.0-fail-us", or "-fail-all" for every one) fails there once,
    # as an outage would: the retry operations ask for succeeds.
    named="${version##*fail-}"
    if [ -n "$region" ] && { [ "$named" = "$region" ] || [ "$named" = all ]; } && [ ! -e "$root/outage-$version" ]; then
      mkdir -p "$root" && : > "$root/outage-$version"
      echo "Deploying $site $version"; sleep "$pause"
      echo "region $region unreachable: the load balancer answers 503" >&2; exit 1
    fi ;;
  *fail*) echo "Deploying $site $version"; sleep "$pause"; echo "smoke test failed: version $version answers 500" >&2; exit 1 ;;
esac
echo "Deploying $site $version"
mkdir -p "$root/releases/$version"
sleep "$pause"
cat > "$root/releases/$version/index.html" <<HTML
<!doctype html>
<title>$site $version</title>
<h1>$site</h1>
<p>Version $version, deployed $(date -u +%Y-%m-%dT%H:%M:%SZ).</p>
HTML
echo "  files copied"
sleep "$pause"
ln -sfn "releases/$version" "$root/current"
echo "  switched $root/current to $version"
echo "Smoke test: $(grep -c "Version $version" "$root/current/index.html") page answers"
