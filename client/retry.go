package client

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// RetryPolicy says how the client answers 429 M_LIMIT_EXCEEDED. The zero value never
// retries.
//
// A retry waits as long as the server asks: the Retry-After header (seconds or an HTTP
// date, the spec's way since v1.10), else the deprecated retry_after_ms field, else one
// second doubled with each retry. When that wait is longer than MaxWait, or would end
// after the context's deadline, the client returns the 429 error at once instead.
type RetryPolicy struct {
	// MaxRetries is how many times one call may be retried after a 429.
	MaxRetries int
	// MaxWait is the longest the client waits before one retry. Zero means one minute.
	MaxWait time.Duration
}

// defaultMaxWait is the MaxWait of a policy that leaves it zero.
const defaultMaxWait = time.Minute

// pause waits before retry number retries+1 of a call that got the 429 answer a, or
// returns the 429 error when the policy or the context does not allow another attempt.
func (p RetryPolicy) pause(
	ctx context.Context, a *answer, limited *mxerr.Error, retries int,
) error {
	if retries >= p.MaxRetries {
		return limited
	}
	maxWait := p.MaxWait
	if maxWait <= 0 {
		maxWait = defaultMaxWait
	}

	wait := retryAfter(a.header, limited, retries, time.Now())
	if wait > maxWait {
		return limited
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return limited
	}

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("wait %v to retry after %s: %w", wait, limited.Code, ctx.Err())
	case <-timer.C:
		return nil
	}
}

// retryAfter is how long the server asked the client to wait, from the Retry-After
// header, the retry_after_ms field or, failing both, a backoff from one second.
func retryAfter(h http.Header, limited *mxerr.Error, retries int, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if limited.RetryAfterMS > 0 {
		return time.Duration(limited.RetryAfterMS) * time.Millisecond
	}
	return time.Second << min(retries, 10)
}
