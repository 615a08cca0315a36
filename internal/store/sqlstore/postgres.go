package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

// pgUniqueViolation is PostgreSQL's SQLSTATE for a unique or primary key violation.
const pgUniqueViolation = "23505"

// postgresBackend runs on a pgx pool; placeholders are rewritten from ? to $n once per
// distinct query.
type postgresBackend struct {
	pool    *pgxpool.Pool
	rebound sync.Map // query with ? → query with $n
}

func openPostgres(ctx context.Context, dbURL string, maxConns int) (*postgresBackend, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("parse database.url: %w", err)
	}
	cfg.MaxConns = int32(maxConns)

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host,
			cfg.ConnConfig.Port, err)
	}
	return &postgresBackend{pool: pool}, nil
}

// rebind rewrites ? placeholders as $1, $2, ... Queries here never hold a literal ?.
func (b *postgresBackend) rebind(query string) string {
	if q, ok := b.rebound.Load(query); ok {
		return q.(string)
	}

	var sb strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(c)
	}
	b.rebound.Store(query, sb.String())
	return sb.String()
}

func (b *postgresBackend) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return pgExec(ctx, b.pool, b.rebind(query), args)
}

func (b *postgresBackend) queryRow(ctx context.Context, query string, args ...any) row {
	return pgRow{b.pool.QueryRow(ctx, b.rebind(query), args...)}
}

func (b *postgresBackend) query(ctx context.Context, query string, args ...any) (rows, error) {
	return b.pool.Query(ctx, b.rebind(query), args...)
}

func (b *postgresBackend) transact(ctx context.Context, fn func(q querier) error) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin PostgreSQL transaction: %w", err)
	}
	// The deferred rollback also covers a panic in fn, which would otherwise leak the
	// pool connection inside the transaction; after Commit it does nothing.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(pgTx{tx: tx, b: b}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit PostgreSQL transaction: %w", err)
	}
	return nil
}

func (b *postgresBackend) isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

func (b *postgresBackend) lockSuffix() string { return " FOR UPDATE" }

func (b *postgresBackend) migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(b.pool)
	defer db.Close()
	return runMigrations(ctx, db, dialectPostgres)
}

func (b *postgresBackend) poolStats() []PoolStat {
	s := b.pool.Stat()
	return []PoolStat{{Pool: "postgres", Open: int(s.TotalConns()),
		InUse: int(s.AcquiredConns()), Idle: int(s.IdleConns()), MaxOpen: int(s.MaxConns()),
		WaitCount: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime()}}
}

func (b *postgresBackend) ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *postgresBackend) close() error {
	b.pool.Close()
	return nil
}

type pgTx struct {
	tx pgx.Tx
	b  *postgresBackend
}

func (t pgTx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return pgExec(ctx, t.tx, t.b.rebind(query), args)
}

func (t pgTx) queryRow(ctx context.Context, query string, args ...any) row {
	return pgRow{t.tx.QueryRow(ctx, t.b.rebind(query), args...)}
}

func (t pgTx) query(ctx context.Context, query string, args ...any) (rows, error) {
	return t.tx.Query(ctx, t.b.rebind(query), args...)
}

type pgExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func pgExec(ctx context.Context, e pgExecer, query string, args []any) (int64, error) {
	tag, err := e.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// pgRow maps pgx.ErrNoRows to store.ErrNotFound.
type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
