package client_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// TestErrorDecoding checks how answers become errors: Matrix errors with their optional
// keys, and bodies that are not Matrix errors.
func TestErrorDecoding(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *mxerr.Error
		check       func(t *testing.T, e *mxerr.Error)
	}{
		{
			name: "soft logout", status: http.StatusUnauthorized,
			body: `{"errcode":"M_UNKNOWN_TOKEN","error":"expired","soft_logout":true}`,
			want: mxerr.ErrUnknownToken,
			check: func(t *testing.T, e *mxerr.Error) {
				if !e.SoftLogout || e.Message != "expired" {
					t.Errorf("error %+v, want soft_logout and the message", e)
				}
			},
		},
		{
			name: "user locked", status: http.StatusUnauthorized,
			body: `{"errcode":"M_USER_LOCKED","error":"locked","soft_logout":true}`,
			want: mxerr.ErrUserLocked,
		},
		{
			name: "custom errcode", status: http.StatusBadRequest,
			body: `{"errcode":"COM.EXAMPLE_NOPE","error":"no"}`,
			want: mxerr.New(0, "COM.EXAMPLE_NOPE", ""),
		},
		{
			name: "HTML page", status: http.StatusBadGateway, contentType: "text/html",
			body: "<html><body>Bad gateway</body></html>", want: mxerr.ErrUnknown,
			check: func(t *testing.T, e *mxerr.Error) {
				if !strings.Contains(e.Message, "text/html") ||
					!strings.Contains(e.Message, "Bad gateway") {
					t.Errorf("message %q does not say what came back", e.Message)
				}
			},
		},
		{
			name: "empty body", status: http.StatusServiceUnavailable, body: "",
			want: mxerr.ErrUnknown,
			check: func(t *testing.T, e *mxerr.Error) {
				if !strings.Contains(e.Message, "empty body") {
					t.Errorf("message %q does not say the body was empty", e.Message)
				}
			},
		},
		{
			name: "JSON that is not a Matrix error", status: http.StatusNotFound,
			body: `{"detail":"no"}`, want: mxerr.ErrUnknown,
		},
		{
			name: "a long body is cut", status: http.StatusInternalServerError,
			contentType: "text/plain", body: strings.Repeat("x", 10_000), want: mxerr.ErrUnknown,
			check: func(t *testing.T, e *mxerr.Error) {
				if len(e.Message) > 400 {
					t.Errorf("message is %d bytes long", len(e.Message))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newFakeServer(t, map[string]http.HandlerFunc{
				"GET /_matrix/client/v3/account/whoami": func(w http.ResponseWriter,
					r *http.Request) {
					if tt.contentType != "" {
						w.Header().Set("Content-Type", tt.contentType)
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				}})

			_, err := fs.client(t, client.Tokens{AccessToken: "at"}).Whoami(t.Context())

			e := wantMatrixError(t, err, tt.want, tt.status)
			if tt.check != nil {
				tt.check(t, e)
			}
			if !strings.Contains(err.Error(), "GET /_matrix/client/v3/account/whoami") {
				t.Errorf("error %q does not name the request", err)
			}
		})
	}
}

// TestErrorsOutsideMatrix checks failures that are not Matrix answers: a 2xx body that
// does not decode and a server that is gone.
func TestErrorsOutsideMatrix(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"GET /_matrix/client/versions": answer(http.StatusOK, `{"versions":"v1.13"}`)})
	c := fs.client(t, client.Tokens{})

	_, err := c.Versions(t.Context())
	var e *mxerr.Error
	if err == nil || errors.As(err, &e) {
		t.Errorf("undecodable answer: error %v, want a decoding error", err)
	}

	fs.Close()
	_, err = c.Versions(t.Context())
	if err == nil || errors.As(err, &e) {
		t.Errorf("server gone: error %v, want a transport error", err)
	}
}

// TestNew checks the base URLs New accepts, and that a base URL's path is kept.
func TestNew(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "matrix.example.org", "ftp://example.org",
		"http://", "https://example.org/?x=1", "://"} {
		if _, err := client.New(client.Options{BaseURL: bad}); err == nil {
			t.Errorf("New(%q) accepted it", bad)
		}
	}

	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"GET /prefix/_matrix/client/versions": answer(http.StatusOK, `{"versions":["v1.13"]}`),
	})
	c := newClient(t, fs.URL+"/prefix/", client.Tokens{})
	if c.BaseURL() != fs.URL+"/prefix" {
		t.Errorf("BaseURL %q, want the trailing slash dropped", c.BaseURL())
	}
	if _, err := c.Versions(t.Context()); err != nil {
		t.Errorf("versions under a path prefix: %v", err)
	}
	if ua := fs.last(t); ua.Path != "/prefix/_matrix/client/versions" {
		t.Errorf("path %q", ua.Path)
	}
}
