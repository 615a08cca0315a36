package client_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// limitedThen returns a handler that answers 429 the first `limited` times, with the
// Retry-After header and retry_after_ms given ("" and 0 leave them out), then 200.
func limitedThen(limited int, retryAfter string, retryAfterMS int64) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if int(n.Add(1)) > limited {
			writeJSON(w, http.StatusOK, `{"user_id":"@u:hs","access_token":"at",`+
				`"device_id":"D"}`)
			return
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		body := `{"errcode":"M_LIMIT_EXCEEDED","error":"slow down"`
		if retryAfterMS > 0 {
			body += `,"retry_after_ms":` + strconv.FormatInt(retryAfterMS, 10)
		}
		writeJSON(w, http.StatusTooManyRequests, body+`}`)
	}
}

// TestRetry checks which 429 answers the client retries, against a fake server.
func TestRetry(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)

	tests := []struct {
		name         string
		handler      http.HandlerFunc
		policy       client.RetryPolicy
		ctxTimeout   time.Duration
		wantErr      bool
		wantRequests int
	}{
		{"Retry-After seconds", limitedThen(1, "0", 0),
			client.RetryPolicy{MaxRetries: 1}, 0, false, 2},
		{"Retry-After date", limitedThen(2, past, 0),
			client.RetryPolicy{MaxRetries: 2}, 0, false, 3},
		{"retry_after_ms only", limitedThen(2, "", 20),
			client.RetryPolicy{MaxRetries: 3, MaxWait: time.Second}, 0, false, 3},
		{"header wins over the field", limitedThen(1, "0", 3_600_000),
			client.RetryPolicy{MaxRetries: 1, MaxWait: time.Second}, 0, false, 2},
		{"no retries by default", limitedThen(1, "0", 1),
			client.RetryPolicy{}, 0, true, 1},
		{"retries run out", limitedThen(5, "", 1),
			client.RetryPolicy{MaxRetries: 2}, 0, true, 3},
		{"wait longer than MaxWait", limitedThen(1, "3600", 0),
			client.RetryPolicy{MaxRetries: 3, MaxWait: time.Minute}, 0, true, 1},
		{"wait past the deadline", limitedThen(1, "", 2000),
			client.RetryPolicy{MaxRetries: 3}, 500 * time.Millisecond, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeServer(t, map[string]http.HandlerFunc{
				"POST /_matrix/client/v3/login": tt.handler})
			c, err := client.New(client.Options{BaseURL: fs.URL, Retry: tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}

			_, err = c.Login(ctx, &client.LoginRequest{Type: client.LoginTypePassword,
				Identifier: client.ByUser("u"), Password: "pw"})

			if tt.wantErr {
				wantMatrixError(t, err, mxerr.ErrLimitExceeded, http.StatusTooManyRequests)
			} else if err != nil {
				t.Fatalf("login: %v", err)
			}
			reqs := fs.requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			for _, r := range reqs[1:] {
				if string(r.Body) != string(reqs[0].Body) {
					t.Errorf("retry sent %s, first request %s", r.Body, reqs[0].Body)
				}
			}
		})
	}
}

// TestRetryCancelled checks that cancelling the context ends the wait.
func TestRetryCancelled(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"GET /_matrix/client/versions": limitedThen(1, "30", 0)})
	c, err := client.New(client.Options{BaseURL: fs.URL,
		Retry: client.RetryPolicy{MaxRetries: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)

	start := time.Now()
	_, err = c.Versions(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the wait did not end with the context")
	}
}

// TestRetryRealServer gets 429 from the real server's rate limiter on the
// registration-token check, and checks both the error and a retry that honours it.
func TestRetryRealServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithRateLimits(),
		testserver.WithConfig(func(c *config.Config) {
			c.RateLimits.TokenValidity = config.Rate{PerSecond: 5, Burst: 1}
		}))

	plain := newClient(t, srv.URL, client.Tokens{})
	if _, err := plain.RegistrationTokenValid(t.Context(), "t1"); err != nil {
		t.Fatalf("first check: %v", err)
	}
	_, err := plain.RegistrationTokenValid(t.Context(), "t2")
	e := wantMatrixError(t, err, mxerr.ErrLimitExceeded, http.StatusTooManyRequests)
	if e.RetryAfterMS <= 0 {
		t.Errorf("retry_after_ms %d, want a wait", e.RetryAfterMS)
	}

	patient, err := client.New(client.Options{BaseURL: srv.URL,
		Retry: client.RetryPolicy{MaxRetries: 2, MaxWait: 3 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := patient.RegistrationTokenValid(t.Context(), "t3"); err != nil {
		t.Errorf("check with retries: %v", err)
	}
}
