package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mxaccounts/mxaccounts/internal/metrics"
)

// TestNilMetricsCountNothing checks that code holding no metrics may call every method.
func TestNilMetricsCountNothing(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("GET", "/x", 200, time.Millisecond)
	m.Registration("user", "success")
	m.Login("m.login.password", "success")
	m.PasswordHash("hash", time.Millisecond)
	m.RateLimited("register")
	m.Query("exec", time.Millisecond)
	m.MessageSent("email")
	m.MessageFailed("msisdn")
}

func TestMessageCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.MessageSent("email")
	m.MessageSent("email")
	m.MessageFailed("msisdn")

	want := `
# HELP mxaccounts_messages_total Emails and SMS handed to a sender, by medium and outcome.
# TYPE mxaccounts_messages_total counter
mxaccounts_messages_total{medium="email",outcome="sent"} 2
mxaccounts_messages_total{medium="msisdn",outcome="failed"} 1
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mxaccounts_messages_total")
	if err != nil {
		t.Error(err)
	}
}

func TestPoolCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	err := metrics.RegisterPools(reg, func() []metrics.PoolStat {
		return []metrics.PoolStat{{Pool: "postgres", Open: 3, InUse: 1, Idle: 2, Max: 8,
			WaitCount: 5, WaitDuration: 1500 * time.Millisecond}}
	})
	if err != nil {
		t.Fatal(err)
	}

	want := `
# HELP mxaccounts_db_connections Open database connections, by pool and state (in_use or idle).
# TYPE mxaccounts_db_connections gauge
mxaccounts_db_connections{pool="postgres",state="idle"} 2
mxaccounts_db_connections{pool="postgres",state="in_use"} 1
# HELP mxaccounts_db_max_connections The most connections a pool opens.
# TYPE mxaccounts_db_max_connections gauge
mxaccounts_db_max_connections{pool="postgres"} 8
# HELP mxaccounts_db_wait_seconds_total Time spent waiting for a free connection.
# TYPE mxaccounts_db_wait_seconds_total counter
mxaccounts_db_wait_seconds_total{pool="postgres"} 1.5
# HELP mxaccounts_db_wait_total Times a query waited for a free connection.
# TYPE mxaccounts_db_wait_total counter
mxaccounts_db_wait_total{pool="postgres"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// get serves one GET request to h and returns the status and body.
func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg).Login("m.login.password", "success")
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))

	down := errors.New("connection refused by 10.0.0.5")
	ping := func(context.Context) error { return nil }
	h := metrics.Handler(reg, func(ctx context.Context) error { return ping(ctx) }, log)

	if code, body := get(t, h, "/health"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/health: %d %s", code, body)
	}
	if code, body := get(t, h, "/ready"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/ready while the database answers: %d %s", code, body)
	}
	code, body := get(t, h, "/metrics")
	if code != 200 || !strings.Contains(body,
		`mxaccounts_logins_total{outcome="success",type="m.login.password"} 1`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}

	ping = func(context.Context) error { return down }
	code, body = get(t, h, "/ready")
	if code != http.StatusServiceUnavailable || strings.Contains(body, "10.0.0.5") {
		t.Errorf("/ready while the database is down: %d %s", code, body)
	}
	if !strings.Contains(logged.String(), "10.0.0.5") {
		t.Errorf("the cause of the failed ping was not logged: %s", logged.String())
	}
	if code, _ := get(t, h, "/other"); code != http.StatusNotFound {
		t.Errorf("/other: %d, want 404", code)
	}
}

// TestUnknownMethodsShareOneLabel checks that clients cannot add label values (and so
// time series) by sending made-up HTTP methods.
func TestUnknownMethodsShareOneLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	for _, method := range []string{"RND1", "RND2", strings.Repeat("X", 2000), "GET"} {
		m.ObserveRequest(method, "/", 404, time.Millisecond)
	}

	got, err := testutil.GatherAndCount(reg, "mxaccounts_http_requests_total")
	if err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Errorf("%d request series, want 2 (GET and other)", got)
	}
}
