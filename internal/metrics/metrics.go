// Package metrics defines the Prometheus metrics of mxaccounts on a registry the caller
// owns, and serves them with /health and /ready on the operators' listener.
//
// Every method of *Metrics does nothing on a nil receiver, so that code that counts
// (including code written before metrics existed, such as the email and SMS senders)
// may hold a nil *Metrics in tests and tools.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// namespace prefixes every metric name.
const namespace = "mxaccounts"

// The outcome label values of MessageSent and MessageFailed.
const (
	OutcomeSent   = "sent"
	OutcomeFailed = "failed"
)

// Metrics holds the service's own metrics.
type Metrics struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	registrations   *prometheus.CounterVec
	logins          *prometheus.CounterVec
	passwordHash    *prometheus.HistogramVec
	rateLimited     *prometheus.CounterVec
	queryDuration   *prometheus.HistogramVec
	messages        *prometheus.CounterVec
}

// New creates the metrics and registers them with reg; it panics if reg holds metrics
// of the same names already, which is a programming error.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "registrations_total",
			Help: "Registrations that ended, by kind (user, guest, appservice, " +
				"shared_secret, admin) and outcome (success or an errcode).",
		}, []string{"kind", "outcome"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "logins_total",
			Help: "Logins, by login type and outcome (success or an errcode).",
		}, []string{"type", "outcome"}),
		passwordHash: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "password_hash_duration_seconds",
			Help:    "Time to hash a new password or verify one, by operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_total",
			Help: "Requests refused with M_LIMIT_EXCEEDED, by limiter.",
		}, []string{"limiter"}),
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "db", Name: "query_duration_seconds",
			Help:    "Time of database statements, by operation (exec or query).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"operation"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "messages_total",
			Help: "Emails and SMS handed to a sender, by medium and outcome.",
		}, []string{"medium", "outcome"}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.registrations, m.logins,
		m.passwordHash, m.rateLimited, m.queryDuration, m.messages)
	return m
}

// ObserveRequest counts one answered request and its duration. route is the pattern
// that served it, so that paths holding user IDs do not each make a series.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	method = knownMethod(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// Registration counts a registration of kind that ended with outcome.
func (m *Metrics) Registration(kind, outcome string) {
	if m == nil {
		return
	}
	m.registrations.WithLabelValues(kind, outcome).Inc()
}

// Login counts a login of the given type that ended with outcome.
func (m *Metrics) Login(loginType, outcome string) {
	if m == nil {
		return
	}
	m.logins.WithLabelValues(loginType, outcome).Inc()
}

// PasswordHash records the time of one password operation: "hash" or "verify".
func (m *Metrics) PasswordHash(operation string, d time.Duration) {
	if m == nil {
		return
	}
	m.passwordHash.WithLabelValues(operation).Observe(d.Seconds())
}

// RateLimited counts one request the named limiter refused.
func (m *Metrics) RateLimited(limiter string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(limiter).Inc()
}

// Query records the time of one database statement: "exec" or "query".
func (m *Metrics) Query(operation string, d time.Duration) {
	if m == nil {
		return
	}
	m.queryDuration.WithLabelValues(operation).Observe(d.Seconds())
}

// MessageSent counts an email ("email") or SMS ("msisdn") that its sender accepted;
// the server wraps each medium's sender to call it and MessageFailed.
func (m *Metrics) MessageSent(medium string) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(medium, OutcomeSent).Inc()
}

// MessageFailed counts an email or SMS that could not be sent.
func (m *Metrics) MessageFailed(medium string) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(medium, OutcomeFailed).Inc()
}

// knownMethod keeps the method label to a fixed set: a client may send any method name,
// and every new label value would be a new time series.
func knownMethod(method string) string {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH":
		return method
	}
	return "other"
}
