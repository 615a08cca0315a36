package sms

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// recorded is one request a fake gateway received.
type recorded struct {
	method, path, contentType string
	header                    http.Header
	body                      string
}

// fakeGateway starts an HTTP server on 127.0.0.1 that records each request and answers
// with status and answer.
func fakeGateway(t *testing.T, status int, answer string) (*httptest.Server, <-chan recorded) {
	t.Helper()

	got := make(chan recorded, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- recorded{method: r.Method, path: r.URL.Path,
			contentType: r.Header.Get("Content-Type"), header: r.Header.Clone(),
			body: string(body)}

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestWebhookWireFormat(t *testing.T) {
	srv, got := fakeGateway(t, http.StatusAccepted, `{"queued":true}`)
	w, err := NewWebhook(WebhookOptions{URL: srv.URL + "/hooks/sms",
		SecretHeader: "X-Gateway-Secret", Secret: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}

	if err := w.Send(context.Background(), "447400123456", "Your code is 012345"); err != nil {
		t.Fatalf("Send: %v", err)
	}

	req := <-got
	if req.method != "POST" || req.path != "/hooks/sms" {
		t.Errorf("request %s %s, want POST /hooks/sms", req.method, req.path)
	}
	if req.contentType != "application/json" {
		t.Errorf("Content-Type %q", req.contentType)
	}
	if s := req.header.Get("X-Gateway-Secret"); s != "s3cr3t" {
		t.Errorf("secret header %q", s)
	}
	if want := `{"to":"+447400123456","text":"Your code is 012345"}`; req.body != want {
		t.Errorf("body %s, want %s", req.body, want)
	}
}

func TestWebhookFailures(t *testing.T) {
	t.Run("non-2xx answer", func(t *testing.T) {
		srv, _ := fakeGateway(t, http.StatusUnauthorized, `{"error":"bad secret"}`)
		w, err := NewWebhook(WebhookOptions{URL: srv.URL, SecretHeader: "Authorization",
			Secret: "Bearer x"})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Send(context.Background(), "15555550100", "hi")
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "401") {
			t.Errorf("Send = %v, want ErrRejected with the status", err)
		}
	})

	t.Run("redirect is not followed", func(t *testing.T) {
		srv := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere",
			http.StatusTemporaryRedirect))
		t.Cleanup(srv.Close)
		w, _ := NewWebhook(WebhookOptions{URL: srv.URL, SecretHeader: "Authorization",
			Secret: "Bearer x"})
		if err := w.Send(context.Background(), "15555550100", "hi"); !errors.Is(err,
			ErrRejected) {
			t.Errorf("Send = %v, want ErrRejected for the 307", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			<-release
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })

		w, _ := NewWebhook(WebhookOptions{URL: srv.URL, SecretHeader: "Authorization",
			Secret: "Bearer x", Timeout: 100 * time.Millisecond})
		start := time.Now()
		if err := w.Send(context.Background(), "15555550100", "hi"); err == nil {
			t.Error("Send succeeded against a server that never answers")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send took %s despite a 100ms timeout", d)
		}
	})

	t.Run("bad msisdn", func(t *testing.T) {
		srv, got := fakeGateway(t, http.StatusOK, `{}`)
		w, _ := NewWebhook(WebhookOptions{URL: srv.URL, SecretHeader: "Authorization",
			Secret: "Bearer x"})
		for _, m := range []string{"", "+447400123456", "4474001234564567", "44 77"} {
			if err := w.Send(context.Background(), m, "hi"); !errors.Is(err,
				ErrInvalidNumber) {
				t.Errorf("Send(%q) = %v, want ErrInvalidNumber", m, err)
			}
		}
		if len(got) != 0 {
			t.Error("a request went out for an invalid msisdn")
		}
	})
}

func TestNewWebhookRejects(t *testing.T) {
	tests := []struct {
		name string
		opts WebhookOptions
	}{
		{"plain http to a remote host", WebhookOptions{URL: "http://sms.example/hook",
			SecretHeader: "Authorization", Secret: "x"}},
		{"no URL", WebhookOptions{SecretHeader: "Authorization", Secret: "x"}},
		{"no secret", WebhookOptions{URL: "https://sms.example/hook",
			SecretHeader: "Authorization"}},
		{"no header", WebhookOptions{URL: "https://sms.example/hook", Secret: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewWebhook(tt.opts); err == nil {
				t.Errorf("NewWebhook(%+v) succeeded", tt.opts)
			}
		})
	}
}
