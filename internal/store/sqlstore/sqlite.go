package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

// SQLiteFile is the name of the database file inside the data directory.
const SQLiteFile = "mxaccounts.db"

// sqliteBackend keeps two pools on one file: a single writer connection, so that writes
// are serialised here rather than by lock retries, and a pool of readers, which WAL mode
// lets run beside the writer.
type sqliteBackend struct {
	writer *sql.DB
	reader *sql.DB
	// The statements of each pool, prepared once: SQLite's parser and planner cost
	// more than a simple query itself.
	writes, reads stmtCache
}

func openSQLite(dataDir string, readers int) (*sqliteBackend, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	path := filepath.Join(dataDir, SQLiteFile)

	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)",
		"synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()

	writer, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)

	reader, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open SQLite database %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)

	b := &sqliteBackend{writer: writer, reader: reader, writes: stmtCache{db: writer},
		reads: stmtCache{db: reader}}
	if err := writer.PingContext(context.Background()); err != nil {
		b.close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	return b, nil
}

func (b *sqliteBackend) exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := b.writes.get(ctx, query)
	if err != nil {
		return 0, err
	}
	return sqlExec(ctx, b.writer, st, query, args)
}

func (b *sqliteBackend) queryRow(ctx context.Context, query string, args ...any) row {
	st, err := b.reads.get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return sqlQueryRow(ctx, b.reader, st, query, args)
}

func (b *sqliteBackend) query(ctx context.Context, query string, args ...any) (rows, error) {
	st, err := b.reads.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return sqlQuery(ctx, b.reader, st, query, args)
}

func (b *sqliteBackend) transact(ctx context.Context, fn func(q querier) error) error {
	tx, err := b.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin SQLite transaction: %w", err)
	}
	// The deferred rollback also covers a panic in fn, which would otherwise leave the
	// single writer connection inside the transaction; after Commit it does nothing.
	defer func() { _ = tx.Rollback() }()
	if err := fn(sqlTx{tx: tx, stmts: &b.writes}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit SQLite transaction: %w", err)
	}
	return nil
}

func (b *sqliteBackend) isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code()
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// lockSuffix is empty: the single writer connection serialises write transactions.
func (b *sqliteBackend) lockSuffix() string { return "" }

func (b *sqliteBackend) migrate(ctx context.Context) error {
	return runMigrations(ctx, b.writer, dialectSQLite)
}

func (b *sqliteBackend) poolStats() []PoolStat {
	return []PoolStat{sqlPoolStat("sqlite_writer", b.writer.Stats()),
		sqlPoolStat("sqlite_reader", b.reader.Stats())}
}

// sqlPoolStat converts the statistics of a database/sql pool.
func sqlPoolStat(name string, s sql.DBStats) PoolStat {
	return PoolStat{Pool: name, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
		MaxOpen: s.MaxOpenConnections, WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
}

func (b *sqliteBackend) ping(ctx context.Context) error { return b.reader.PingContext(ctx) }

func (b *sqliteBackend) close() error {
	return errors.Join(b.reads.close(), b.writes.close(), b.reader.Close(), b.writer.Close())
}

// sqlTx runs statements inside a database/sql transaction, with the writer's prepared
// statements.
type sqlTx struct {
	tx    *sql.Tx
	stmts *stmtCache
}

// stmt returns the prepared statement of query for use in the transaction, which ends
// it; nil when query is to run unprepared. It prepares nothing: that would need the
// writer's one connection, which the transaction holds.
func (t sqlTx) stmt(ctx context.Context, query string) *sql.Stmt {
	st := t.stmts.cached(query)
	if st == nil {
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

func (t sqlTx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return sqlExec(ctx, t.tx, t.stmt(ctx, query), query, args)
}

func (t sqlTx) queryRow(ctx context.Context, query string, args ...any) row {
	return sqlQueryRow(ctx, t.tx, t.stmt(ctx, query), query, args)
}

func (t sqlTx) query(ctx context.Context, query string, args ...any) (rows, error) {
	return sqlQuery(ctx, t.tx, t.stmt(ctx, query), query, args)
}

// conn runs unprepared statements: a pool or a transaction.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// sqlExec runs the prepared st, or query on c when st is nil, and returns how many rows
// it changed.
func sqlExec(ctx context.Context, c conn, st *sql.Stmt, query string, args []any) (
	int64, error,
) {
	var res sql.Result
	var err error
	if st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = c.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sqlQueryRow is sqlExec for a query of one row.
func sqlQueryRow(ctx context.Context, c conn, st *sql.Stmt, query string, args []any) row {
	if st != nil {
		return sqlRow{st.QueryRowContext(ctx, args...)}
	}
	return sqlRow{c.QueryRowContext(ctx, query, args...)}
}

// sqlQuery is sqlExec for a query of rows.
func sqlQuery(ctx context.Context, c conn, st *sql.Stmt, query string, args []any) (
	rows, error,
) {
	var r *sql.Rows
	var err error
	if st != nil {
		r, err = st.QueryContext(ctx, args...)
	} else {
		r, err = c.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

// errRow is a row whose query could not even start.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// sqlRow maps sql.ErrNoRows to store.ErrNotFound.
type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// sqlRows adapts *sql.Rows, whose Close returns an error nobody needs after Err.
type sqlRows struct{ r *sql.Rows }

func (r sqlRows) Next() bool             { return r.r.Next() }
func (r sqlRows) Scan(dest ...any) error { return r.r.Scan(dest...) }
func (r sqlRows) Err() error             { return r.r.Err() }
func (r sqlRows) Close()                 { _ = r.r.Close() }
