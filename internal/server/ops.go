package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mxaccounts/mxaccounts/internal/metrics"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
)

// newRegistry returns the registry that /metrics serves, with the Go runtime and
// process collectors and the service's own metrics. It is the server's own, not the
// global one, so that servers in one process (tests) do not share counters.
func newRegistry() (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, metrics.New(reg)
}

// poolStats returns the function that describes st's connection pools to the metrics.
func poolStats(st *sqlstore.Store) func() []metrics.PoolStat {
	return func() []metrics.PoolStat {
		var out []metrics.PoolStat
		for _, p := range st.PoolStats() {
			out = append(out, metrics.PoolStat{Pool: p.Pool, Open: p.Open, InUse: p.InUse,
				Idle: p.Idle, Max: p.MaxOpen, WaitCount: p.WaitCount,
				WaitDuration: p.WaitDuration})
		}
		return out
	}
}

// sweepOperatorTables deletes the shared-secret nonces that expired, the rate-limit
// buckets that are full again and the audit events older than audit.retention. Every
// instance sweeps; the deletes are idempotent.
func (s *Server) sweepOperatorTables(ctx context.Context, now time.Time) {
	if _, err := s.store.DeleteExpiredRegistrationNonces(ctx, now.UnixMilli()); err != nil &&
		ctx.Err() == nil {
		s.log.Warn("could not clear expired registration nonces", "error", err)
	}

	if _, err := s.store.DeleteFullRateBuckets(ctx, now.UnixMilli()); err != nil &&
		ctx.Err() == nil {
		s.log.Warn("could not clear full rate-limit buckets", "error", err)
	}

	if s.cfg.Audit.Retention <= 0 {
		return
	}
	cutoff := now.Add(-s.cfg.Audit.Retention).UnixMilli()
	n, err := s.store.DeleteAuditEventsBefore(ctx, cutoff)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("could not delete audit events past their retention", "error", err)
	} else if n > 0 {
		s.log.Info("deleted audit events past their retention", "count", n,
			"retention", s.cfg.Audit.Retention.String())
	}
}
