#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test of the UIA fallback pages
# (internal/web/browser_test.go), on Debian 12, as root.
#
# It is idempotent: when a Chromium is already on the PATH it only prints its version.
# The test finds /usr/bin/chromium by itself; set MXACCOUNTS_TEST_REQUIRE_BROWSER=1 to
# make it fail, instead of skipping, when no browser is found:
#
#   bash .ci/chromium.sh
#   MXACCOUNTS_TEST_REQUIRE_BROWSER=1 go test ./internal/web/...
set -euo pipefail

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed() { command -v chromium >/dev/null 2>&1; }

if ! installed; then
  [ "$(id -u)" -eq 0 ] || die "run as root to install Chromium with apt-get"
  log "installing chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q chromium >&2
fi

installed || die "chromium is still not on the PATH after the install"
# Debian's wrapper script can print shell warnings before the version; keep the last line.
log "ready: $(chromium --version 2>/dev/null | tail -n 1)"
