#!/usr/bin/env bash
# Installs Mailpit, the SMTP server with an HTTP API that the email tests send real mail
# to (internal/mailpittest starts it on loopback ports; .ci/cases.sh too), with
# "go install" into $(go env GOPATH)/bin, and prints its path on stdout.
#
# It is idempotent: a mailpit already built from the wanted version is kept. The tests
# find it on the PATH or in $(go env GOPATH)/bin; set MXACCOUNTS_TEST_REQUIRE_MAILPIT=1
# to make them fail, instead of skipping, when it is missing:
#
#   bash .ci/mailpit.sh
#   MXACCOUNTS_TEST_REQUIRE_MAILPIT=1 go test ./...
set -euo pipefail

version=v1.33.1
module=github.com/axllent/mailpit

log() { printf 'mailpit.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bin="$(go env GOPATH)/bin/mailpit"
if command -v mailpit >/dev/null 2>&1; then
  bin=$(command -v mailpit)
fi

# go version -m reads the module version a binary was built from.
built_from() { go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3 }'; }

if [ -x "$bin" ] && [ "$(built_from "$bin")" = "$version" ]; then
  log "ready: $bin ($version)"
else
  log "installing $module@$version with go install"
  go install "$module@$version" >&2
  bin="$(go env GOPATH)/bin/mailpit"
  [ "$(built_from "$bin")" = "$version" ] || die "$bin is not $version after the install"
  log "ready: $bin ($version)"
fi
echo "$bin"
