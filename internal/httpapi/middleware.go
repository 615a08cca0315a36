package httpapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// reqInfo is what the request log line reports, filled in as the request goes.
type reqInfo struct {
	id     string
	route  string
	userID mxid.UserID
	// cause is the internal error behind a 500, logged here and never sent.
	cause error
	// auditNotes are details a handler adds to the audit event of an admin request.
	auditNotes map[string]any
}

type reqInfoKey struct{}

// requestInfo returns the request's reqInfo, or a throwaway one outside the middleware.
func requestInfo(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request: method, route, status, duration and user,
// and counts the request in the metrics by its route pattern. It never logs the query
// string or the body, where tokens and passwords travel. It also gives the request
// context the client that audit events record.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: rand.Text()[:12]}
		sw := &statusWriter{ResponseWriter: w}
		ctx := context.WithValue(r.Context(), reqInfoKey{}, ri)
		ctx = audit.WithClient(ctx, audit.Client{IP: s.clientAddr(r),
			UserAgent: r.UserAgent()})
		next.ServeHTTP(sw, r.WithContext(ctx))

		if sw.status == 0 {
			sw.status = http.StatusOK // the handler wrote nothing, which net/http sends so
		}
		s.metrics.ObserveRequest(r.Method, routePath(ri.route), sw.status, time.Since(start))

		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", ri.id),
			slog.String("method", r.Method),
			slog.String("path", loggedPath(r.URL.Path, ri.route)),
			slog.String("route", ri.route),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		}
		if ri.userID != "" {
			attrs = append(attrs, slog.String("user_id", string(ri.userID)))
		}
		if ri.cause != nil {
			attrs = append(attrs, slog.String("error", ri.cause.Error()))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// routePath returns the path of a ServeMux pattern ("GET /x/{id}" → "/x/{id}"), which
// names the route in metrics without a series per user ID; "" when no route matched
// (the request never reached the router).
func routePath(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// recoverPanics turns a panic into a logged 500 with the standard error body.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}
				return
			}
			s.log.ErrorContext(r.Context(), "handler panicked", "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, mxerr.ErrInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// cors adds the CORS headers the spec asks for to every answer, and answers OPTIONS
// itself without running any handler.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers",
			"X-Requested-With, Content-Type, Authorization, Date")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses U+0000 in the path and query, which no identifier may hold, and
// caps request bodies: a declared length over the cap is refused before any
// byte is read, and a body that grows past it fails to decode with M_TOO_LARGE.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.ContainsRune(r.URL.Path, 0) || strings.Contains(r.URL.RawQuery, "%00") {
			writeError(w, r, mxerr.ErrInvalidParam.Msg("the path and query must not "+
				"contain U+0000"))
			return
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			writeError(w, r, mxerr.ErrTooLarge.Msg("the request body is larger than %d bytes",
				s.cfg.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// loggedPath is the path for the request log: the route pattern instead when the path
// holds a secret, as the registration-token admin paths do.
func loggedPath(path, route string) string {
	if strings.Contains(route, "{token}") {
		return route
	}
	return path
}
