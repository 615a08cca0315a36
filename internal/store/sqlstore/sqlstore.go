package sqlstore

import (
	"context"
	"fmt"

	"github.com/mxaccounts/mxaccounts/internal/store"
)

// Options selects the database.
type Options struct {
	// URL is a postgres:// URL, or empty for SQLite in DataDir.
	URL string
	// DataDir holds the SQLite file.
	DataDir string
	// MaxOpenConns caps the pool (PostgreSQL) or the readers (SQLite).
	MaxOpenConns int
	// Migrate applies pending migrations on open.
	Migrate bool
	// ObserveQuery, when set, receives the duration of every statement.
	ObserveQuery QueryObserver
}

// Store implements store.Store. Outside Transact its methods run on the pool; inside,
// on the transaction.
type Store struct {
	b backend
	q querier
}

var _ store.Store = (*Store)(nil)

// Open connects to the database that opts name, migrating it when asked.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.MaxOpenConns < 1 {
		opts.MaxOpenConns = 4
	}

	var (
		b   backend
		err error
	)
	if opts.URL == "" {
		b, err = openSQLite(opts.DataDir, opts.MaxOpenConns)
	} else {
		b, err = openPostgres(ctx, opts.URL, opts.MaxOpenConns)
	}
	if err != nil {
		return nil, err
	}

	if opts.Migrate {
		if err := b.migrate(ctx); err != nil {
			b.close()
			return nil, err
		}
	}
	if opts.ObserveQuery != nil {
		b = &timedBackend{backend: b, observe: opts.ObserveQuery}
	}
	return &Store{b: b, q: b}, nil
}

// Migrate applies pending migrations.
func (s *Store) Migrate(ctx context.Context) error { return s.b.migrate(ctx) }

// Transact implements store.Store.
func (s *Store) Transact(ctx context.Context, fn func(tx store.Store) error) error {
	if s.q != querier(s.b) {
		return fn(s) // already inside a transaction: join it
	}
	return s.b.transact(ctx, func(q querier) error {
		return fn(&Store{b: s.b, q: q})
	})
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.b.ping(ctx) }

// Close implements store.Store.
func (s *Store) Close() error { return s.b.close() }

// conflictOr returns store.ErrConflict, wrapped with what, when err is a unique
// violation, and err wrapped with what otherwise.
func (s *Store) conflictOr(err error, what string) error {
	if err == nil {
		return nil
	}
	if s.b.isUniqueViolation(err) {
		return fmt.Errorf("%s: %w", what, store.ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}
