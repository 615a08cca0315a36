#!/usr/bin/env bash
# Installs and starts a local PostgreSQL 15 for the store tests, on Debian 12, as root.
#
# It is idempotent: run it again and it only checks that everything is in place. It
# listens on loopback only (the Debian default, listen_addresses = 'localhost'), creates
# the role mxaccounts (password mxaccounts, CREATEDB, pg_signal_backend) and the
# database mxaccounts_test owned by it, and prints as the last line of stdout the
# export line for the tests:
#
#   eval "$(.ci/postgres.sh)"
#   go test ./internal/store/...
#
# Everything else goes to stderr. No systemd is needed: the cluster is started with
# pg_ctlcluster.
set -euo pipefail

PG_VERSION=15
PG_CLUSTER=main
PG_HOST=127.0.0.1
PG_PORT=5432
ROLE=mxaccounts
PASSWORD=mxaccounts
DATABASE=mxaccounts_test
URL="postgres://${ROLE}:${PASSWORD}@${PG_HOST}:${PG_PORT}/${DATABASE}?sslmode=disable"

# Keep stdout for the final export line; send everything else to stderr.
exec 3>&1 1>&2

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# psql_admin runs psql as the postgres superuser over the local socket.
psql_admin() {
	(cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@")
}

[[ $(id -u) -eq 0 ]] || die "run me as root"

# 1. Install the packages. apt-get install is a no-op when they are already there.
log "installing PostgreSQL ${PG_VERSION}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q postgresql "postgresql-${PG_VERSION}"

# 2. Make sure the cluster exists; the package normally creates it.
if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "${PG_VERSION}/${PG_CLUSTER}"; then
	log "creating cluster ${PG_VERSION}/${PG_CLUSTER}"
	pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT"
fi

# 3. Start it unless it runs already. pg_ctlcluster status exits 0 when it runs.
if pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; then
	log "cluster ${PG_VERSION}/${PG_CLUSTER} is already running"
else
	log "starting cluster ${PG_VERSION}/${PG_CLUSTER}"
	# The server outlives this script, so it must hold none of our pipes: not fd 3,
	# the pipe of the caller's $(...), which would then wait for it forever, nor any
	# pipe a CI runner passed down. The subshell closes every descriptor above 2.
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			if ((fd > 2)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
		done
		exec pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start </dev/null
	)
fi

# 4. Wait until it answers on the loopback address.
log "waiting for PostgreSQL on ${PG_HOST}:${PG_PORT}"
for i in $(seq 1 60); do
	if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
		break
	fi
	if [[ $i -eq 60 ]]; then
		die "PostgreSQL does not answer on ${PG_HOST}:${PG_PORT} after 30 s; see" \
			"/var/log/postgresql/postgresql-${PG_VERSION}-${PG_CLUSTER}.log"
	fi
	sleep 0.5
done

# The tests want a server on loopback only; say so if the cluster listens wider.
listen=$(psql_admin -tA -c "SHOW listen_addresses")
if [[ $listen != localhost && $listen != 127.0.0.1 ]]; then
	log "warning: listen_addresses is '${listen}', not loopback only; see" \
		"/etc/postgresql/${PG_VERSION}/${PG_CLUSTER}/postgresql.conf"
fi

# 5. Create the role, or bring an existing one to the password and rights wanted.
role_exists=$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'")
if [[ $role_exists == 1 ]]; then
	log "role ${ROLE} exists; resetting its password and rights"
	psql_admin -c "ALTER ROLE ${ROLE} WITH LOGIN CREATEDB PASSWORD '${PASSWORD}'"
else
	log "creating role ${ROLE}"
	psql_admin -c "CREATE ROLE ${ROLE} WITH LOGIN CREATEDB PASSWORD '${PASSWORD}'"
fi

# pg_signal_backend lets the role's DROP DATABASE ... WITH (FORCE) end an autovacuum
# worker that happens to be in a test database; without it the drop fails. Granting
# it again is harmless; client_min_messages hides the notice that says so.
psql_admin -c "SET client_min_messages TO warning" -c "GRANT pg_signal_backend TO ${ROLE}"

# 6. Create the database unless it exists.
db_exists=$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'")
if [[ $db_exists == 1 ]]; then
	log "database ${DATABASE} exists"
else
	log "creating database ${DATABASE}"
	psql_admin -c "CREATE DATABASE ${DATABASE} OWNER ${ROLE}"
fi

# 7. Check that the role can log in over TCP with its password, as the tests will.
if ! PGPASSWORD="$PASSWORD" psql -X -q -tA -h "$PG_HOST" -p "$PG_PORT" -U "$ROLE" \
	-d "$DATABASE" -c 'SELECT 1' >/dev/null; then
	die "cannot log in as ${ROLE} on ${PG_HOST}:${PG_PORT}; check pg_hba.conf"
fi
log "PostgreSQL is ready"

echo "export MXACCOUNTS_TEST_POSTGRES=${URL}" >&3
