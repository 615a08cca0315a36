package httpapi_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// scrape fetches the metrics of srv in the Prometheus text format.
func scrape(t *testing.T, srv *testserver.Server) string {
	t.Helper()

	resp, err := httpClient.Get(srv.MetricsURL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, %v", resp.StatusCode, err)
	}
	return string(data)
}

// sample returns the value of the sample of name whose labels include labels (given as
// k="v" pairs), 0 when there is none.
func sample(text, name string, labels ...string) float64 {
	for line := range strings.SplitSeq(text, "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if match {
			v, _ := strconv.ParseFloat(value, 64)
			return v
		}
	}
	return 0
}

// TestMetricsCountALogin scrapes /metrics around a login and a refused one and checks
// that the right counters moved: the logins by outcome, the requests by route and
// status with their latency, the password hash time, and the rate limiter.
func TestMetricsCountALogin(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithMetrics(), testserver.WithOpenRegistration(),
		testserver.WithRateLimits())
	alice := newAccount(t, srv, "alice")
	login := `route="/_matrix/client/v3/login"`

	before := scrape(t, srv)
	loginAs(t, srv, alice)
	status, body := passwordLogin(t, srv, alice.userID, "wrong")
	wantError(t, status, body, http.StatusForbidden, "M_FORBIDDEN")
	after := scrape(t, srv)

	tests := []struct {
		name   string
		metric string
		labels []string
		// delta is how much the sample moved; -1 means by any positive amount.
		delta float64
	}{
		{"successful login", "mxaccounts_logins_total",
			[]string{`type="m.login.password"`, `outcome="success"`}, 1},
		{"refused login", "mxaccounts_logins_total",
			[]string{`type="m.login.password"`, `outcome="M_FORBIDDEN"`}, 1},
		{"login answered 200", "mxaccounts_http_requests_total",
			[]string{`method="POST"`, login, `status="200"`}, 1},
		{"login answered 403", "mxaccounts_http_requests_total",
			[]string{`method="POST"`, login, `status="403"`}, 1},
		{"login latency", "mxaccounts_http_request_duration_seconds_count",
			[]string{`method="POST"`, login}, 2},
		{"password verifications", "mxaccounts_password_hash_duration_seconds_count",
			[]string{`operation="verify"`}, 2},
		{"database statements", "mxaccounts_db_query_duration_seconds_count",
			[]string{`operation="query"`}, -1},
	}
	for _, tt := range tests {
		got := sample(after, tt.metric, tt.labels...) -
			sample(before, tt.metric, tt.labels...)
		if got == tt.delta || (tt.delta == -1 && got > 0) {
			continue
		}
		t.Errorf("%s: %s%v moved by %v, want %v", tt.name, tt.metric, tt.labels, got,
			tt.delta)
	}
	for _, gauge := range []string{"mxaccounts_db_max_connections", "go_goroutines",
		"mxaccounts_registrations_total"} {
		if !strings.Contains(after, "\n"+gauge) {
			t.Errorf("the scrape lacks %s", gauge)
		}
	}

	// Wrong passwords beyond the burst are refused and counted as rate limited.
	for range srv.Config.RateLimits.FailedLogin.Burst {
		passwordLogin(t, srv, alice.userID, "wrong")
	}
	status, body = passwordLogin(t, srv, alice.userID, "wrong")
	wantError(t, status, body, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if n := sample(scrape(t, srv), "mxaccounts_rate_limited_total",
		`limiter="failed_login"`); n < 1 {
		t.Errorf("rate_limited_total{failed_login} is %v after a 429", n)
	}
}

// TestHealthAndReady checks the operators' probes on the metrics listener.
func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithMetrics())

	for _, path := range []string{"/health", "/ready"} {
		resp, err := httpClient.Get(srv.MetricsURL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), `"ok"`) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, data)
		}
	}

	// The client API does not serve them.
	status, _, body := do(t, "GET", srv.URL+"/metrics", "", nil)
	wantError(t, status, body, http.StatusNotFound, "M_UNRECOGNIZED")
}
