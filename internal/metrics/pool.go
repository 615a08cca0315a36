package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStat describes one database connection pool at the moment of a scrape.
type PoolStat struct {
	// Pool names the pool, such as "postgres" or "sqlite_reader".
	Pool                   string
	Open, InUse, Idle, Max int
	// WaitCount and WaitDuration add up the waits for a free connection so far.
	WaitCount    int64
	WaitDuration time.Duration
}

// poolCollector reads the pool statistics at each scrape, so they are never stale.
type poolCollector struct {
	stats                                 func() []PoolStat
	connections, maxConns, waits, waitSec *prometheus.Desc
}

// RegisterPools registers with reg a collector that reports the pools that stats
// describes at each scrape.
func RegisterPools(reg prometheus.Registerer, stats func() []PoolStat) error {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db", name), help,
			append([]string{"pool"}, labels...), nil)
	}
	return reg.Register(&poolCollector{
		stats: stats,
		connections: desc("connections", "Open database connections, by pool and state "+
			"(in_use or idle).", "state"),
		maxConns: desc("max_connections", "The most connections a pool opens."),
		waits:    desc("wait_total", "Times a query waited for a free connection."),
		waitSec: desc("wait_seconds_total",
			"Time spent waiting for a free connection."),
	})
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connections
	ch <- c.maxConns
	ch <- c.waits
	ch <- c.waitSec
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.connections, prometheus.GaugeValue,
			float64(p.InUse), p.Pool, "in_use")
		ch <- prometheus.MustNewConstMetric(c.connections, prometheus.GaugeValue,
			float64(p.Idle), p.Pool, "idle")
		ch <- prometheus.MustNewConstMetric(c.maxConns, prometheus.GaugeValue,
			float64(p.Max), p.Pool)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue,
			float64(p.WaitCount), p.Pool)
		ch <- prometheus.MustNewConstMetric(c.waitSec, prometheus.CounterValue,
			p.WaitDuration.Seconds(), p.Pool)
	}
}
