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

exit $status
