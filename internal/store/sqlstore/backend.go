// Package sqlstore implements store.Store on SQL databases: the embedded SQLite file
// (modernc.org/sqlite) and PostgreSQL (pgx). Queries are written once, with ?
// placeholders, and run on a backend that hides each driver's dialect: placeholder
// style, transactions, write serialisation and the shape of its errors.
package sqlstore

import (
	"context"
)

// querier runs statements; a backend outside a transaction and a transaction both are
// queriers.
type querier interface {
	// exec runs a statement and returns how many rows it changed.
	exec(ctx context.Context, query string, args ...any) (int64, error)
	// queryRow runs a query expected to return at most one row. Scanning a missing row
	// returns store.ErrNotFound.
	queryRow(ctx context.Context, query string, args ...any) row
	// query runs a query returning rows; the caller closes them.
	query(ctx context.Context, query string, args ...any) (rows, error)
}

// row is one result row.
type row interface {
	Scan(dest ...any) error
}

// rows is a result set.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// backend is one database: a querier outside transactions, plus what a driver does its
// own way.
type backend interface {
	querier
	// transact runs fn in a transaction that commits when fn returns nil.
	transact(ctx context.Context, fn func(q querier) error) error
	// isUniqueViolation reports whether err is a unique or primary key violation.
	isUniqueViolation(err error) bool
	// lockSuffix ends a SELECT that locks its rows until the transaction ends: FOR UPDATE
	// where the database has row locks, nothing where transactions are serialised.
	lockSuffix() string
	// migrate applies pending migrations.
	migrate(ctx context.Context) error
	// poolStats describes the connection pools.
	poolStats() []PoolStat
	ping(ctx context.Context) error
	close() error
}
