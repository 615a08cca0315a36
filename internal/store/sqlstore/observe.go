package sqlstore

import (
	"context"
	"time"
)

// QueryObserver receives the duration of each statement the store runs: operation is
// "exec" for a statement that changes rows, "query" for one that returns them. A query's
// time runs until its rows are read.
type QueryObserver func(operation string, d time.Duration)

// PoolStat describes one connection pool at a moment.
type PoolStat struct {
	// Pool names the pool: "postgres", or "sqlite_writer" and "sqlite_reader".
	Pool    string
	Open    int
	InUse   int
	Idle    int
	MaxOpen int
	// WaitCount and WaitDuration add up the waits for a free connection so far.
	WaitCount    int64
	WaitDuration time.Duration
}

// PoolStats returns the state of the store's connection pools.
func (s *Store) PoolStats() []PoolStat { return s.b.poolStats() }

// base returns the backend without its instrumentation.
func (s *Store) base() backend {
	if t, ok := s.b.(*timedBackend); ok {
		return t.backend
	}
	return s.b
}

// timedBackend reports the duration of every statement run on its backend, inside
// transactions too. It is a pointer so that Store can compare its querier with it.
type timedBackend struct {
	backend
	observe QueryObserver
}

func (t *timedBackend) exec(ctx context.Context, query string, args ...any) (int64, error) {
	return timedQuerier{q: t.backend, observe: t.observe}.exec(ctx, query, args...)
}

func (t *timedBackend) queryRow(ctx context.Context, query string, args ...any) row {
	return timedQuerier{q: t.backend, observe: t.observe}.queryRow(ctx, query, args...)
}

func (t *timedBackend) query(ctx context.Context, query string, args ...any) (rows, error) {
	return timedQuerier{q: t.backend, observe: t.observe}.query(ctx, query, args...)
}

func (t *timedBackend) transact(ctx context.Context, fn func(q querier) error) error {
	return t.backend.transact(ctx, func(q querier) error {
		return fn(timedQuerier{q: q, observe: t.observe})
	})
}

// timedQuerier reports the duration of the statements it runs on q.
type timedQuerier struct {
	q       querier
	observe QueryObserver
}

func (t timedQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	start := time.Now()
	n, err := t.q.exec(ctx, query, args...)
	t.observe("exec", time.Since(start))
	return n, err
}

func (t timedQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	start := time.Now()
	return &timedRow{r: t.q.queryRow(ctx, query, args...), start: start, observe: t.observe}
}

func (t timedQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	start := time.Now()
	rs, err := t.q.query(ctx, query, args...)
	if err != nil {
		t.observe("query", time.Since(start))
		return nil, err
	}
	return &timedRows{rows: rs, start: start, observe: t.observe}, nil
}

// timedRow reports when its row has been read.
type timedRow struct {
	r       row
	start   time.Time
	observe QueryObserver
}

func (r *timedRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	r.observe("query", time.Since(r.start))
	return err
}

// timedRows reports when its rows are closed.
type timedRows struct {
	rows
	start   time.Time
	observe QueryObserver
	closed  bool
}

func (r *timedRows) Close() {
	r.rows.Close()
	if !r.closed {
		r.closed = true
		r.observe("query", time.Since(r.start))
	}
}
