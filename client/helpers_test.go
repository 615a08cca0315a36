package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// testPassword is the password of every account the tests register.
const testPassword = "correct horse battery staple 1"

// newClient returns a client for baseURL with the given tokens, failing the test if it
// cannot be made.
func newClient(t *testing.T, baseURL string, tokens client.Tokens) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: baseURL, Tokens: tokens})
	if err != nil {
		t.Fatalf("client.New(%q): %v", baseURL, err)
	}
	return c
}

// registerUser registers username on srv through the registration-token flow and
// returns the answer.
func registerUser(
	t *testing.T, srv *testserver.Server, username string,
) *client.RegisterResponse {
	t.Helper()
	c := newClient(t, srv.URL, client.Tokens{})
	req := &client.RegisterRequest{Username: username, Password: testPassword}

	var resp *client.RegisterResponse
	u := client.UIA{Stages: []client.Stage{
		client.RegistrationTokenStage(srv.RegistrationToken(t)),
		client.DummyStage(),
	}}
	err := u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		var err error
		resp, err = c.Register(ctx, req)
		return err
	})
	if err != nil {
		t.Fatalf("register %q: %v", username, err)
	}
	return resp
}

// loggedIn registers username on srv and returns a client that holds its session.
func loggedIn(t *testing.T, srv *testserver.Server, username string) *client.Client {
	t.Helper()
	resp := registerUser(t, srv, username)
	return newClient(t, srv.URL, resp.Tokens())
}

// wantMatrixError checks that err is an *mxerr.Error matching want under errors.Is and
// carrying status, and returns it.
func wantMatrixError(t *testing.T, err error, want *mxerr.Error, status int) *mxerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s (HTTP %d)", want.Code, status)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want errcode %s", err, want.Code)
	}
	var e *mxerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *mxerr.Error", err)
	}
	if e.Status != status {
		t.Errorf("HTTP status %d, want %d (error %v)", e.Status, status, err)
	}
	return e
}

// errWith reports whether err matches want and has status, for checks that must not
// stop the test.
func errWith(err error, want *mxerr.Error, status int) bool {
	var e *mxerr.Error
	return errors.As(err, &e) && errors.Is(err, want) && e.Status == status
}

// fakeServer stands in for a spec-compliant homeserver on loopback, for endpoints that
// mxaccounts does not serve yet and for answers it never gives. Tests route the paths
// they need and read back the requests it received.
type fakeServer struct {
	*httptest.Server

	mu       sync.Mutex
	received []received
}

// received is one request as the fake server saw it.
type received struct {
	Method        string
	Path          string
	Query         string
	Authorization string
	ContentType   string
	Body          []byte
}

// newFakeServer starts a fake server with routes ("METHOD /path" patterns of
// http.ServeMux) and stops it when the test ends. Unrouted paths get 404 M_UNRECOGNIZED.
func newFakeServer(t *testing.T, routes map[string]http.HandlerFunc) *fakeServer {
	t.Helper()
	fs := &fakeServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"errcode":"M_UNRECOGNIZED","error":"unknown"}`)
	})
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}

	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		fs.mu.Lock()
		fs.received = append(fs.received, received{Method: r.Method, Path: r.URL.EscapedPath(),
			Query: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"), Body: body})
		fs.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(fs.Close)
	return fs
}

// requests returns the requests received so far.
func (fs *fakeServer) requests() []received {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]received(nil), fs.received...)
}

// last returns the last request received, failing the test when there was none.
func (fs *fakeServer) last(t *testing.T) received {
	t.Helper()
	reqs := fs.requests()
	if len(reqs) == 0 {
		t.Fatal("the fake server received no request")
	}
	return reqs[len(reqs)-1]
}

// client returns a client for the fake server with the given tokens.
func (fs *fakeServer) client(t *testing.T, tokens client.Tokens) *client.Client {
	t.Helper()
	return newClient(t, fs.URL, tokens)
}

// writeJSON answers with status and the JSON text body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// answer returns a handler that always answers status and body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, status, body) }
}

// wantJSON checks that got is the same JSON value as want, whatever the key order.
func wantJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request body\n got %s\nwant %s", got, want)
	}
}

// decodeAuth returns the auth object of a UIA request body, or nil without one.
func decodeAuth(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var b struct {
		Auth map[string]any `json:"auth"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Errorf("request body %q is not JSON: %v", body, err)
	}
	return b.Auth
}

// readBody returns the body of a request the fake server received.
func readBody(t *testing.T, r *http.Request) []byte {
	t.Helper()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read request body: %v", err)
	}
	return data
}
