// Package storetest runs tests against every database that mxaccounts supports: an
// SQLite file in a fresh temporary directory, and PostgreSQL when the environment names a
// server. Each test gets a database of its own, so tests never see each other's rows and
// may run in parallel.
//
// PostgreSQL tests need EnvPostgres set to the URL of a role allowed to create
// databases; .ci/postgres.sh sets up a local server and prints that variable:
//
//	eval "$(.ci/postgres.sh)"
//	go test ./internal/store/...
//
// Without it, every PostgreSQL test is skipped, unless EnvRequirePostgres is set, in
// which case it fails.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
)

// EnvPostgres names the environment variable that holds the PostgreSQL URL the tests
// connect to, such as
// postgres://mxaccounts:mxaccounts@127.0.0.1:5432/mxaccounts_test?sslmode=disable.
// Its role must have CREATEDB: each test creates and drops a database of its own
// through it.
const EnvPostgres = "MXACCOUNTS_TEST_POSTGRES"

// EnvRequirePostgres names an environment variable that, when set to anything but the
// empty string, turns the skip of PostgreSQL tests for want of EnvPostgres into a
// failure, so that CI cannot pass without having run them.
const EnvRequirePostgres = "MXACCOUNTS_TEST_REQUIRE_POSTGRES"

// The names of the subtests that Run and RunOptions start.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// adminTimeout bounds the creation and the removal of a test database.
const adminTimeout = 30 * time.Second

// Run runs fn as the subtests "sqlite" and "postgres", each on a fresh, migrated store
// that is closed when the subtest ends. The postgres subtest is skipped when
// EnvPostgres is not set. fn may call t.Parallel.
func Run(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()

	RunOptions(t, func(t *testing.T, opts sqlstore.Options) {
		t.Helper()
		fn(t, Open(t, opts))
	})
}

// RunOptions runs fn as the subtests "sqlite" and "postgres", each with the options of
// a fresh, empty database that fn opens itself, as many times as it likes; use it to
// test opening and migrating. The postgres subtest is skipped when EnvPostgres is not
// set. fn may call t.Parallel.
func RunOptions(t *testing.T, fn func(t *testing.T, opts sqlstore.Options)) {
	t.Helper()

	t.Run(SQLite, func(t *testing.T) {
		t.Helper()
		fn(t, SQLiteOptions(t))
	})
	t.Run(Postgres, func(t *testing.T) {
		t.Helper()
		fn(t, PostgresOptions(t))
	})
}

// Open opens the store that opts name, applying the migrations, and closes it when the
// test ends.
func Open(t testing.TB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()

	opts.Migrate = true
	s, err := sqlstore.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}

	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// SQLiteOptions returns the options of an SQLite database in a fresh directory that is
// removed when the test ends.
func SQLiteOptions(t testing.TB) sqlstore.Options {
	t.Helper()
	return sqlstore.Options{DataDir: t.TempDir()}
}

// PostgresOptions returns the options of a fresh, empty PostgreSQL database that is
// dropped when the test ends. It skips the test when EnvPostgres is not set.
func PostgresOptions(t testing.TB) sqlstore.Options {
	t.Helper()
	return sqlstore.Options{URL: PostgresURL(t)}
}

// PostgresURL creates a PostgreSQL database with a random name through the server that
// EnvPostgres names and returns its URL; the database is dropped, with FORCE, when the
// test ends. Tests that start whole servers on PostgreSQL use it. It skips the test
// when EnvPostgres is not set (fails it when EnvRequirePostgres is set too).
func PostgresURL(t testing.TB) string {
	t.Helper()

	base := os.Getenv(EnvPostgres)
	if base == "" {
		how := fmt.Sprintf("set %s to the URL of a role with CREATEDB, e.g. by "+
			"eval \"$(.ci/postgres.sh)\"", EnvPostgres)
		if os.Getenv(EnvRequirePostgres) != "" {
			t.Fatalf("*** PostgreSQL tests FAILED: %s is set, so they must run: %s ***",
				EnvRequirePostgres, how)
		}
		t.Skipf("*** PostgreSQL tests SKIPPED: %s ***", how)
	}

	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, not %q (error: %v)", EnvPostgres, base, err)
	}

	name, err := randomName()
	if err != nil {
		t.Fatalf("name a test database: %v", err)
	}

	if err := adminExec(base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database %s through %s: %v", name, u.Redacted(), err)
	}

	t.Cleanup(func() {
		if err := dropDatabase(base, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String()
}

// randomName returns a database name that no other test picks.
func randomName() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return "mxaccounts_test_" + hex.EncodeToString(b), nil
}

// dropDatabase drops the database name with FORCE, which ends the connections a
// failed test left open. FORCE fails for a role that may not signal every process
// connected to the database, such as an autovacuum worker when the role lacks
// pg_signal_backend; a plain DROP DATABASE, which stops autovacuum workers itself, is
// then tried.
func dropDatabase(dbURL, name string) error {
	drop := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize()

	forceErr := adminExec(dbURL, drop+" WITH (FORCE)")
	if forceErr == nil {
		return nil
	}
	if err := adminExec(dbURL, drop); err != nil {
		return errors.Join(forceErr, err)
	}
	return nil
}

// adminExec runs one statement on a connection of its own to dbURL, outside any
// transaction, as CREATE DATABASE and DROP DATABASE require.
func adminExec(dbURL, statement string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)

	if _, err := conn.Exec(ctx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}
