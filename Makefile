# Runway: `make run` starts the demo portal, `make test` runs every test, `make bench` prints figures.
# Every target installs what it needs first and skips what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

RELEASE_BIN := target/release/runway

.PHONY: run test bench tools build-release e2e-deps chromium buildbot schemathesis python-venv postgres-check lint fmt help

help:
	@echo "make run    start the demo portal on embedded SQLite (http://127.0.0.1:3000 by default)"
	@echo "make test   run every test (unit, integration on SQLite and PostgreSQL, browser)"
	@echo "make bench  print the benchmark figures"
	@echo "make lint   rustfmt and clippy, as CI runs them"

## Toolchain pieces: wasm target, rustfmt/clippy, wasm-bindgen CLI, cargo-leptos, wasm-opt.
tools: e2e-deps
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" || \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked

## npm packages for the browser tests and wasm-opt (from the binaryen package).
e2e-deps:
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
	@if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
		cd end2end && npm ci --no-audit --no-fund; fi

## Debian's Chromium for the browser tests, and libfaketime, which starts the deployment specs'
## portal on a Friday evening (end2end/deploy-stack.sh).
chromium:
	@[ -x /usr/bin/chromium ] && command -v faketime >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium faketime)

## A Buildbot master and worker for the connector's live tests, and an SMTP server (aiosmtpd) for
## the mail tests, in a venv of their own.
AIOSMTPD_VERSION := 1.4.6
BUILDBOT_VERSION := 4.3.0
BUILDBOT_VENV := $(CURDIR)/.tools/buildbot
buildbot: python-venv
	@if [ ! -x "$(BUILDBOT_VENV)/bin/buildbot-worker" ] || ! "$(BUILDBOT_VENV)/bin/buildbot" --version 2>/dev/null | grep -q "$(BUILDBOT_VERSION)" \
		|| ! "$(BUILDBOT_VENV)/bin/python" -c 'import aiosmtpd' 2>/dev/null; then \
		rm -rf "$(BUILDBOT_VENV)" && python3 -m venv "$(BUILDBOT_VENV)" && \
		"$(BUILDBOT_VENV)/bin/pip" install --quiet --disable-pip-version-check \
			buildbot==$(BUILDBOT_VERSION) buildbot-worker==$(BUILDBOT_VERSION) buildbot-www==$(BUILDBOT_VERSION) \
			aiosmtpd==$(AIOSMTPD_VERSION); \
	fi

## Schemathesis, the API contract tester the test suite runs against the OpenAPI document.
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_VENV := $(CURDIR)/.tools/schemathesis
schemathesis: python-venv
	@if ! "$(SCHEMATHESIS_VENV)/bin/schemathesis" --version 2>/dev/null | grep -q "$(SCHEMATHESIS_VERSION)"; then \
		rm -rf "$(SCHEMATHESIS_VENV)" && python3 -m venv "$(SCHEMATHESIS_VENV)" && \
		"$(SCHEMATHESIS_VENV)/bin/pip" install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION); \
	fi

python-venv:
	@python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv)

## The release build, then the site prepared for serving: digested names, brotli and gzip copies.
build-release: tools
	cargo leptos build --release --split
	node scripts/assets.mjs target/site

run: build-release
	@mkdir -p "$${RUNWAY_DATA_DIR:-./data}"
	RUNWAY_DEMO=true RUNWAY_DEMO_HISTORY="$${RUNWAY_DEMO_HISTORY:-true}" \
		RUNWAY_CATALOG="$${RUNWAY_CATALOG:-catalog/demo.toml}" RUNWAY_SITE_DIR="$${RUNWAY_SITE_DIR:-target/site}" $(RELEASE_BIN) serve

postgres-check:
	@scripts/postgres-check.sh

test: tools chromium buildbot schemathesis postgres-check
	@mkdir -p target
	@# The benchmarks (examples) are not built here: `make lint` checks that they compile.
	cargo test -p server --lib --tests 2>&1 | tee target/test-cargo.log
	@# The browser tests run the server the integration tests just built (built alike: see
	@# .cargo/config.toml) with the release bundle, so no release server is built for them.
	cargo leptos build --release --split --frontend-only
	node scripts/assets.mjs target/site
	cd end2end && E2E_PORTAL_BIN=../target/debug/runway npx playwright test 2>&1 | tee ../target/test-e2e.log
	@scripts/test-summary.sh target/test-cargo.log target/test-e2e.log

bench: build-release
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	scripts/bench.sh

fmt:
	cargo fmt --all

lint: tools
	cargo fmt --all --check
	cargo clippy -p server --all-targets -- -D warnings
	cargo clippy -p app --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings
