#!/usr/bin/env bash
# Runs the shared black-box cases (../shared/cases) against the built server, in the
# configurations they need, through specproxy (../shared/spec/specproxy), which checks
# every answer against the official OpenAPI files. It fails if any case expected to
# pass does not, or if any answer of the server breaks those files.
# Usage: bash .ci/cases.sh   (from the repository root; needs ../shared/cases and
# ../shared/spec, curl, jq and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
cases=../shared/cases/run
spec=../shared/spec
[ -x "$cases" ] || { echo "cases.sh: $cases not found" >&2; exit 1; }
[ -d "$spec/specproxy" ] || { echo "cases.sh: $spec/specproxy not found" >&2; exit 1; }
command -v jq >/dev/null || { echo "cases.sh: jq is needed (apt-get install jq)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
proxies=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/mxaccounts" ./cmd/mxaccounts
(cd "$spec/specproxy" && go build -o "$work/specproxy" .)

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wait_up URL NAME: waits until URL answers /versions.
wait_up() {
  for _ in $(seq 1 100); do
    curl -fsS "$1/_matrix/client/versions" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "cases.sh: $2 did not start" >&2; cat "$work/$2.log" >&2; exit 1
}

# start NAME ENV... : starts a server with the given environment and specproxy in front
# of it, which reports to $work/NAME.spec.jsonl; sets $url to the proxy's.
start() {
  local name=$1; shift
  local port proxy_port; port=$(free_port) proxy_port=$(free_port)
  env "$@" "$work/mxaccounts" serve --listen "127.0.0.1:$port" --data "$work/$name" \
    >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  wait_up "http://127.0.0.1:$port" "$name"
  "$work/specproxy" -listen "127.0.0.1:$proxy_port" -upstream "http://127.0.0.1:$port" \
    -spec "$spec/matrix-client-server" -report "$work/$name.spec.jsonl" -q \
    >"$work/$name.spec.txt" 2>"$work/$name.spec.log" &
  pids+=($!) proxies+=($!)
  url="http://127.0.0.1:$proxy_port"
  wait_up "$url" "$name.spec"
}

# Cases that cannot pass yet, each with what it waits for. Every other case must pass.
known_failing=(
)

# check LOG: fails on any FAIL line of a case not in known_failing.
check() {
  local bad=0 id
  while read -r id; do
    if [[ " ${known_failing[*]} " != *" $id "* ]]; then
      echo "cases.sh: $id failed and is not a known failure" >&2; bad=1
    fi
  done < <(grep -E '^FAIL ' "$1" | awk '{print $2}')
  return $bad
}

status=0
# An application service claiming @_mxc.* exclusively, as the cases expect.
cat >"$work/appservice.yaml" <<'YAML'
id: mxcases
url: null
as_token: mxcases-as-token
hs_token: mxcases-hs-token
sender_localpart: mxcasesbot
namespaces:
  users:
    - {exclusive: true, regex: '@_mxc.*'}
YAML

# The default configuration: registration by token, no guests, rate limits on; with
# the application service and an admin.
start default MXACCOUNTS_REGISTRATION_APPSERVICE_CONFIG_FILES="$work/appservice.yaml"
tok=$("$work/mxaccounts" token create --data "$work/default")
printf 'a case admin password, 42 lanterns\n' >"$work/admin.pw"
admin=$(MXACCOUNTS_REGISTRATION_APPSERVICE_CONFIG_FILES="$work/appservice.yaml" \
  "$work/mxaccounts" user create caseadmin --admin --print-token \
  --password-file "$work/admin.pw" --data "$work/default" | tail -1)
"$cases" -url "$url" -registration-token "$tok" -appservice-token mxcases-as-token \
  -admin-token "$admin" -cap no_guest,rate_limit_low,synapse_admin \
  | tee "$work/default.cases" || true
check "$work/default.cases" || status=1

# Open registration with guests, limits off.
start open MXACCOUNTS_REGISTRATION_OPEN=true MXACCOUNTS_REGISTRATION_GUESTS=true \
  MXACCOUNTS_RATE_LIMITS_ENABLED=false
"$cases" -url "$url" -cap guest,open_registration | tee "$work/open.cases" || true
check "$work/open.cases" || status=1
# One or two requests to each operation that the cases do not reach.
bash "$spec/specproxy/probe.sh" "$url" >"$work/probe.out" || {
  echo "cases.sh: probe.sh failed" >&2; cat "$work/probe.out" >&2; status=1; }

# Email through a Mailpit on loopback, where the cases read the mail. Limits are off:
# the cases ask for many validation messages from one address.
mailpit=$(bash .ci/mailpit.sh)
mail_smtp=$(free_port) mail_api=$(free_port)
"$mailpit" --disable-version-check --quiet --smtp-disable-rdns \
  --listen "127.0.0.1:$mail_api" --smtp "127.0.0.1:$mail_smtp" >"$work/mailpit.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$mail_api/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
email=(MXACCOUNTS_EMAIL_SMTP_URL="smtp+insecure://127.0.0.1:$mail_smtp"
  MXACCOUNTS_EMAIL_FROM="mxaccounts <noreply@example.org>"
  MXACCOUNTS_RATE_LIMITS_ENABLED=false)

# Registration by token, email validation for adding addresses and password resets.
start email "${email[@]}"
tok=$("$work/mxaccounts" token create --data "$work/email")
"$cases" -url "$url" -registration-token "$tok" -mailpit "http://127.0.0.1:$mail_api" \
  | tee "$work/email.cases" || true
check "$work/email.cases" || status=1

# Registration that requires an email address: the one flow is m.login.email.identity,
# which the runner's own registrations cannot complete, so only the cases written for
# it run here.
start email_registration "${email[@]}" MXACCOUNTS_REGISTRATION_OPEN=true \
  MXACCOUNTS_EMAIL_REQUIRE_FOR_REGISTRATION=true
"$cases" -url "$url" -mailpit "http://127.0.0.1:$mail_api" -cap email_registration \
  -run '^bug-(06b|20)-' | tee "$work/email_registration.cases" || true
check "$work/email_registration.cases" || status=1

# Stop the proxies, which then write their reports, and fail on any answer of the
# server that breaks the OpenAPI files, but for the one the files get wrong: the
# application-service spec answers a registration of type m.login.application_service
# without an as_token with 401 M_MISSING_TOKEN, which the files do not list for
# /register.
for p in "${proxies[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" || true; done
findings=$(cat "$work"/*.spec.jsonl | jq -c 'select(.server)
  | select((.operation == "register" and .status == 401
      and (.response | contains("M_MISSING_TOKEN"))) | not)')
if [ -n "$findings" ]; then
  echo "cases.sh: answers that break the OpenAPI files:" >&2
  echo "$findings" >&2
  status=1
else
  echo "cases.sh: specproxy found no answer that breaks the OpenAPI files"
fi

exit $status
