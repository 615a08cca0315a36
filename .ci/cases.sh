#!/usr/bin/env bash
# Runs the shared black-box cases (../shared/cases) against the built server, in the
# configurations they need, and fails if any case expected to pass does not.
# Usage: bash .ci/cases.sh   (from the repository root; needs ../shared/cases)
set -euo pipefail
cd "$(dirname "$0")/.."
cases=../shared/cases/run
[ -x "$cases" ] || { echo "cases.sh: $cases not found" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/mxaccounts" ./cmd/mxaccounts

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start NAME ENV... : starts a server with the given environment, sets $url.
start() {
  local name=$1; shift
  local port; port=$(free_port)
  env "$@" "$work/mxaccounts" serve --listen "127.0.0.1:$port" --data "$work/$name" \
    >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fsS "$url/_matrix/client/versions" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "cases.sh: server $name did not start" >&2; cat "$work/$name.log" >&2; exit 1
}

# The cases that must pass; each later feature adds its own.
expected='^(spec-(register-|logout-whoami|access-token-query-param|unrecognized-endpoint'
expected+='|malformed-json-body|versions-|registration-token-validity-unknown)'
expected+='|bug-0[1-7]|bug-09|bug-11|bug-12|bug-14a|bug-35|bug-36a|bug-39|bug-40a|bug-40c'
expected+='|bug-42|bug-register-without-username)'

status=0
# The default configuration: registration by token, no guests, rate limits on.
start default
tok=$("$work/mxaccounts" token create --data "$work/default")
"$cases" -url "$url" -registration-token "$tok" -cap no_guest,rate_limit_low \
  -run "$expected" || status=1

# Open registration with guests, limits off.
start open MXACCOUNTS_REGISTRATION_OPEN=true MXACCOUNTS_REGISTRATION_GUESTS=true \
  MXACCOUNTS_RATE_LIMITS_ENABLED=false
"$cases" -url "$url" -cap guest,open_registration -run "$expected" || status=1

exit $status
