package metrics

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds the database ping of /ready.
const readyTimeout = 3 * time.Second

// Handler serves the operators' endpoints: /metrics from gatherer in the Prometheus
// text format, /health (200 while the process answers) and /ready (200 when ping
// succeeds, 503 otherwise, as a load balancer expects). The cause of a failed ping goes
// to log, not to the answer.
func Handler(
	gatherer prometheus.Gatherer, ping func(ctx context.Context) error, log *slog.Logger,
) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := ping(ctx); err != nil {
			log.WarnContext(ctx, "not ready: the database does not answer", "error", err)
			writeStatus(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		writeStatus(w, http.StatusOK, "ok")
	})
	return mux
}

// writeStatus answers {"status": status} with the HTTP status code.
func writeStatus(w http.ResponseWriter, code int, status string) {
	body := map[string]string{"status": status}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
