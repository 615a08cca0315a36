package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWriteErrorClientGone checks that an error caused by the client going away is
// recorded as 499, not as a 500 for the operator, while other errors stay 500s.
func TestWriteErrorClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(),
		reqInfoKey{}, &reqInfo{}))
	cancel()
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)

	w := httptest.NewRecorder()
	writeError(w, r, fmt.Errorf("read accounts: %w", context.Canceled))
	if w.Code != statusClientClosed {
		t.Errorf("a canceled request was answered %d; want %d", w.Code, statusClientClosed)
	}

	w = httptest.NewRecorder()
	writeError(w, r, errors.New("disk on fire"))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("another error with the client gone was answered %d; want 500", w.Code)
	}

	live := httptest.NewRequest("GET", "/", nil).WithContext(context.WithValue(
		context.Background(), reqInfoKey{}, &reqInfo{}))
	w = httptest.NewRecorder()
	writeError(w, live, context.Canceled) // canceled by something else
	if w.Code != http.StatusInternalServerError {
		t.Errorf("a canceled operation of a live request was answered %d; want 500", w.Code)
	}
}
