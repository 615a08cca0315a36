#!/usr/bin/env bash
# Installs matrix-js-sdk, pinned in e2e/jssdk/package-lock.json, for the end-to-end tests
# that drive the server with it (e2e/jssdk_test.go). Needs Node 20 or newer with npm:
# matrix-js-sdk 37.4.0 is the newest release that runs on Node 20.
#
# It is idempotent: npm ci installs exactly the locked tree into e2e/jssdk/node_modules
# (ignored by git) on every run, replacing whatever was there. Set
# MXACCOUNTS_TEST_REQUIRE_JSSDK=1 to make the tests fail, instead of skipping, when the
# SDK or Node is missing:
#
#   bash .ci/jssdk.sh
#   MXACCOUNTS_TEST_REQUIRE_JSSDK=1 go test ./e2e/ -run JSSDK
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'jssdk.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v node >/dev/null 2>&1 || die "no node on the PATH; install Node 20 or newer"
command -v npm >/dev/null 2>&1 || die "no npm on the PATH; it comes with Node"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "node is $(node --version); matrix-js-sdk needs 20 or newer"

log "installing e2e/jssdk with npm ci (node $(node --version), npm $(npm --version))"
npm ci --prefix e2e/jssdk --no-audit --no-fund --loglevel=error >&2

# Check that the locked version is the one installed and that it loads.
cd e2e/jssdk
want=$(node -p 'require("./package.json").dependencies["matrix-js-sdk"]')
got=$(node -p 'require("./node_modules/matrix-js-sdk/package.json").version')
[ "$got" = "$want" ] || die "installed matrix-js-sdk $got, but package.json pins $want"
node --input-type=module -e 'await import("matrix-js-sdk")' ||
  die "matrix-js-sdk $got is installed but does not load"
log "ready: matrix-js-sdk $got"
