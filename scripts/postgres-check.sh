#!/usr/bin/env bash
# The PostgreSQL half of the test suite needs a server at TEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432, trust auth). Start it when it is installed
# but stopped; otherwise say loudly that those tests will be skipped (CI fails instead).
set -u
host=127.0.0.1; port=5432
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null || (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }
if ready; then
  echo "PostgreSQL is reachable at $host:$port: the PostgreSQL tests will run."
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 20); do ready && { echo "PostgreSQL started."; exit 0; }; sleep 0.5; done
fi
cat >&2 <<'MSG'

 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
 !!  PostgreSQL is NOT reachable at 127.0.0.1:5432.                          !!
 !!  Every PostgreSQL integration test will be SKIPPED (on CI they FAIL).    !!
 !!  Start a server with trust auth for user postgres to run them.           !!
 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

MSG
[ -z "${CI:-}" ]
