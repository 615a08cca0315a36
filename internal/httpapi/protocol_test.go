package httpapi_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

// validityPath is the registration-token check, the one client endpoint under v1.
const validityPath = "/_matrix/client/v1/register/m.login.registration_token/validity"

// TestUnknownEndpoint checks that a path no route serves is 404 M_UNRECOGNIZED as JSON.
func TestUnknownEndpoint(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	tests := []struct {
		name, method, path string
		body               any
	}{
		{name: "unknown v3 endpoint", method: "GET", path: v3 + "/no_such_endpoint"},
		{name: "unknown API version", method: "POST", path: "/_matrix/client/v99/register",
			body: map[string]any{}},
		{name: "register under v1", method: "POST", path: "/_matrix/client/v1/register",
			body: map[string]any{}},
		{name: "trailing slash", method: "GET", path: v3 + "/account/whoami/"},
		{name: "root", method: "GET", path: "/"},
		{name: "outside the client API", method: "GET", path: "/_matrix/media/v3/config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, tt.method, srv.URL+tt.path, "", tt.body)

			wantJSON(t, header)
			wantError(t, status, body, http.StatusNotFound, "M_UNRECOGNIZED")
		})
	}
}

// methodCases are known paths asked with a method they do not serve, and the methods
// they do serve.
var methodCases = []struct {
	method, path string
	allowed      []string
}{
	{"DELETE", "/_matrix/client/versions", []string{"GET"}},
	{"POST", "/.well-known/matrix/client", []string{"GET"}},
	{"PUT", v3 + "/register", []string{"POST"}},
	{"GET", v3 + "/register", []string{"POST"}},
	{"PUT", "/_matrix/client/r0/register", []string{"POST"}},
	{"POST", v3 + "/register/available", []string{"GET"}},
	{"POST", validityPath, []string{"GET"}},
	{"DELETE", v3 + "/login", []string{"GET", "POST"}},
	{"GET", v3 + "/logout", []string{"POST"}},
	{"GET", v3 + "/logout/all", []string{"POST"}},
	{"POST", v3 + "/account/whoami", []string{"GET"}},
	{"GET", v3 + "/account/deactivate", []string{"POST"}},
	{"GET", v3 + "/account/password", []string{"POST"}},
}

// TestWrongMethod checks that a known path with a method it does not serve is 405
// M_UNRECOGNIZED as JSON, with CORS headers, and that nothing behind it runs.
func TestWrongMethod(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	alice := newAccount(t, srv, "alice")

	for _, tt := range methodCases {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, header, body := do(t, tt.method, srv.URL+tt.path, alice.token,
				map[string]any{"username": "wrongmethod", "password": secret,
					"auth": map[string]any{"type": stageDummy}})

			wantJSON(t, header)
			wantError(t, status, body, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
			if header.Get("Access-Control-Allow-Origin") == "" {
				t.Error("no Access-Control-Allow-Origin on the 405")
			}
		})
	}

	wantAvailable(t, srv, "wrongmethod")
	status, me := whoami(t, srv, alice.token)
	wantStatus(t, status, me, http.StatusOK)
}

// TestWrongMethodAllow checks that a 405 names the methods the path serves in an Allow
// header, which RFC 9110 (section 15.5.6) requires of every 405.
func TestWrongMethodAllow(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	for _, tt := range methodCases {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, header, body := do(t, tt.method, srv.URL+tt.path, "", nil)

			wantStatus(t, status, body, http.StatusMethodNotAllowed)
			allow := header.Get("Allow")
			for _, m := range tt.allowed {
				if !strings.Contains(allow, m) {
					t.Errorf("Allow %q, want it to list %s", allow, m)
				}
			}
		})
	}
}

// TestCORSPreflight checks the answer to a browser's preflight for POST /register.
func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t)

	req, err := http.NewRequest("OPTIONS", api(srv, "/register"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	status, header, _, err := roundTrip(req)
	if err != nil {
		t.Fatalf("preflight: %v", err)
	}

	if status != http.StatusOK && status != http.StatusNoContent {
		t.Errorf("status %d, want 200 or 204", status)
	}
	want := map[string][]string{
		"Access-Control-Allow-Origin":  {"*"},
		"Access-Control-Allow-Methods": {"GET", "POST", "PUT", "DELETE", "OPTIONS"},
		"Access-Control-Allow-Headers": {"x-requested-with", "content-type", "authorization"},
	}
	for name, items := range want {
		got := strings.ToLower(header.Get(name))
		for _, item := range items {
			if !strings.Contains(got, strings.ToLower(item)) {
				t.Errorf("%s %q, want it to include %s", name, header.Get(name), item)
			}
		}
	}
}

// TestCORSOnEveryAnswer checks that successes and errors alike carry the CORS headers,
// so that a browser client can read them.
func TestCORSOnEveryAnswer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "u")

	tests := []struct {
		name, method, path, token string
		body                      any
		wantStatus                int
	}{
		{name: "200", method: "GET", path: v3 + "/account/whoami", token: u.token,
			wantStatus: http.StatusOK},
		{name: "401 missing token", method: "GET", path: v3 + "/account/whoami",
			wantStatus: http.StatusUnauthorized},
		{name: "401 UIA challenge", method: "POST", path: v3 + "/register",
			body: map[string]any{}, wantStatus: http.StatusUnauthorized},
		{name: "400 bad body", method: "POST", path: v3 + "/login", body: rawBody("{"),
			wantStatus: http.StatusBadRequest},
		{name: "403 wrong password", method: "POST", path: v3 + "/login",
			body:       map[string]any{"type": "m.login.password", "user": "u", "password": "x"},
			wantStatus: http.StatusForbidden},
		{name: "404", method: "GET", path: v3 + "/nothing", wantStatus: http.StatusNotFound},
		{name: "405", method: "PUT", path: v3 + "/register", body: map[string]any{},
			wantStatus: http.StatusMethodNotAllowed},
		{name: "413", method: "POST", path: v3 + "/register",
			body:       rawBody(`{"username":"` + strings.Repeat("x", 70<<10) + `"}`),
			wantStatus: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, tt.method, srv.URL+tt.path, tt.token, tt.body)

			wantStatus(t, status, body, tt.wantStatus)
			if got := header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			allowHeaders := strings.ToLower(header.Get("Access-Control-Allow-Headers"))
			if !strings.Contains(allowHeaders, "authorization") {
				t.Errorf("Access-Control-Allow-Headers %q lacks Authorization", allowHeaders)
			}
		})
	}
}

// TestOptionsRunsNothing checks that OPTIONS, with a valid token and a body, answers
// 2xx without running the endpoint: no logout, no registration.
func TestOptionsRunsNothing(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "u")
	before := countAccounts(t, srv)

	paths := []string{"/logout", "/logout/all", "/account/deactivate", "/register",
		"/account/whoami"}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest("OPTIONS", api(srv, path), strings.NewReader(
				`{"username":"optioned","password":"x","auth":{"type":"m.login.dummy"}}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", "https://app.example")
			req.Header.Set("Authorization", "Bearer "+u.token)
			status, header, _, err := roundTrip(req)
			if err != nil {
				t.Fatalf("OPTIONS %s: %v", path, err)
			}

			if status != http.StatusOK && status != http.StatusNoContent {
				t.Errorf("status %d, want 200 or 204", status)
			}
			if header.Get("Access-Control-Allow-Origin") == "" {
				t.Error("no Access-Control-Allow-Origin")
			}
		})
	}

	status, me := whoami(t, srv, u.token)
	wantStatus(t, status, me, http.StatusOK)
	if n := countAccounts(t, srv); n != before {
		t.Errorf("%d accounts after OPTIONS, want %d", n, before)
	}
	wantAvailable(t, srv, "optioned")
}

// TestMalformedBody checks the errors for bodies that are not JSON (M_NOT_JSON) and
// JSON that is not an object (M_BAD_JSON), on each endpoint that reads a body.
func TestMalformedBody(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "u")

	bodies := []struct {
		name     string
		body     rawBody
		wantCode string
	}{
		{name: "cut short", body: `{"type": "m.login.password", "identifier": `,
			wantCode: "M_NOT_JSON"},
		{name: "unclosed object", body: `{"username":"bug40"`, wantCode: "M_NOT_JSON"},
		{name: "plain text", body: "this is not json", wantCode: "M_NOT_JSON"},
		{name: "invalid UTF-8 in a string", body: "{ \"username\": \"a\x81\" }",
			wantCode: "M_NOT_JSON"},
		{name: "invalid UTF-8 in a key", body: "{ \"user\xffname\": \"a\" }",
			wantCode: "M_NOT_JSON"},
		{name: "trailing garbage", body: `{} x`, wantCode: "M_NOT_JSON"},
		{name: "two objects", body: `{}{}`, wantCode: "M_NOT_JSON"},
		{name: "single quotes", body: `{'username': 'a'}`, wantCode: "M_NOT_JSON"},
		{name: "array", body: `["m.login.password"]`, wantCode: "M_BAD_JSON"},
		{name: "empty array", body: `[]`, wantCode: "M_BAD_JSON"},
		{name: "string", body: `"str"`, wantCode: "M_BAD_JSON"},
		{name: "null", body: `null`, wantCode: "M_BAD_JSON"},
		{name: "number", body: `42`, wantCode: "M_BAD_JSON"},
		{name: "boolean", body: `true`, wantCode: "M_BAD_JSON"},
	}
	endpoints := []struct {
		path, token string
	}{
		{path: "/register"}, {path: "/login"}, {path: "/logout", token: u.token},
	}
	for _, e := range endpoints {
		for _, b := range bodies {
			t.Run(e.path+" "+b.name, func(t *testing.T) {
				status, header, body := do(t, "POST", api(srv, e.path), e.token, b.body)

				wantJSON(t, header)
				wantError(t, status, body, http.StatusBadRequest, b.wantCode)
			})
		}
	}

	// An empty body is no JSON object where one is required; /logout takes none.
	for _, path := range []string{"/register", "/login"} {
		t.Run(path+" empty", func(t *testing.T) {
			status, _, body := do(t, "POST", api(srv, path), "", rawBody(""))
			wantError(t, status, body, http.StatusBadRequest, "M_NOT_JSON")

			status, _, body = do(t, "POST", api(srv, path), "", nil)
			wantError(t, status, body, http.StatusBadRequest, "M_NOT_JSON")
		})
	}

	if n := countAccounts(t, srv); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
	status, me := whoami(t, srv, u.token)
	wantStatus(t, status, me, http.StatusOK)
}

// TestNewPasswordWrongType checks that a number for new_password is a 400 before any
// authentication runs, that the password stays as it was, and that /logout then works
// with no body at all.
func TestNewPasswordWrongType(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	u := newAccount(t, srv, "u")

	status, _, body := do(t, "POST", api(srv, "/account/password"), u.token, map[string]any{
		"new_password": 12345,
		"auth": map[string]any{"type": "m.login.password", "password": u.password,
			"identifier": map[string]any{"type": "m.id.user", "user": u.userID}},
	})

	wantError(t, status, body, http.StatusBadRequest, "M_BAD_JSON")
	wantAbsent(t, body, "flows")
	again := loginAs(t, srv, u)
	status, _, body = do(t, "POST", api(srv, "/logout"), again.token, nil)
	wantStatus(t, status, body, http.StatusOK)
}

// TestBodyWithoutContentType checks that the server reads a JSON body whatever its
// Content-Type says, since the spec does not oblige clients to send one.
func TestBodyWithoutContentType(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	for _, contentType := range []string{"", "text/plain"} {
		t.Run("Content-Type "+strconv.Quote(contentType), func(t *testing.T) {
			req, err := http.NewRequest("POST", api(srv, "/register"),
				strings.NewReader(`{"username":"u","password":"`+secret+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			status, _, body, err := roundTrip(req)
			if err != nil {
				t.Fatal(err)
			}

			wantStatus(t, status, body, http.StatusUnauthorized)
			str(t, body, "session")
		})
	}
}

// paddedBody is a JSON object followed by spaces up to size bytes, produced as it is
// read, so that a large body costs no memory.
type paddedBody struct {
	prefix string
	size   int64
	off    int64
}

func (p *paddedBody) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && p.off < p.size {
		if p.off < int64(len(p.prefix)) {
			b[n] = p.prefix[p.off]
		} else {
			b[n] = ' '
		}
		n++
		p.off++
	}
	return n, nil
}

// TestOversizedBody checks that bodies over the limit get 413 M_TOO_LARGE as JSON,
// whether their length is declared or streamed, and that the server goes on serving.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	limit := srv.Config.HTTP.MaxBodyBytes
	prefix := `{"username":"big","password":"` + secret + `"}`

	tests := []struct {
		name       string
		size       int64
		chunked    bool
		wantStatus int
	}{
		{name: "100 MiB with Content-Length", size: 100 << 20,
			wantStatus: http.StatusRequestEntityTooLarge},
		{name: "100 MiB chunked", size: 100 << 20, chunked: true,
			wantStatus: http.StatusRequestEntityTooLarge},
		{name: "one byte over the limit", size: limit + 1,
			wantStatus: http.StatusRequestEntityTooLarge},
		{name: "one byte over the limit, chunked", size: limit + 1, chunked: true,
			wantStatus: http.StatusRequestEntityTooLarge},
		{name: "exactly the limit", size: limit, wantStatus: http.StatusUnauthorized},
		{name: "exactly the limit, chunked", size: limit, chunked: true,
			wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", api(srv, "/register"),
				&paddedBody{prefix: prefix, size: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			// Without a declared length the transport sends the body chunked.
			if !tt.chunked {
				req.ContentLength = tt.size
			}
			req.Header.Set("Content-Type", "application/json")

			start := time.Now()
			status, header, body, err := roundTrip(req)
			if err != nil {
				t.Fatalf("no answer (%v after %v); want %d", err, time.Since(start),
					tt.wantStatus)
			}

			wantJSON(t, header)
			if tt.wantStatus == http.StatusRequestEntityTooLarge {
				wantError(t, status, body, tt.wantStatus, "M_TOO_LARGE")
			} else {
				wantStatus(t, status, body, tt.wantStatus)
			}
		})
	}

	status, _, body := do(t, "GET", srv.URL+"/_matrix/client/versions", "", nil)
	wantStatus(t, status, body, http.StatusOK)
}

// TestConflictingContentLength checks that a request with two different Content-Length
// headers is refused with 400, and that the server goes on serving.
func TestConflictingContentLength(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())

	resp, data := rawRequest(t, srv, "POST "+v3+"/register HTTP/1.1\r\n"+
		"Host: localhost\r\nContent-Type: application/json\r\n"+
		"Content-Length: 2\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{}")

	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d (%q), want 400", resp.StatusCode, data)
	}
	status, _, body := do(t, "GET", srv.URL+"/_matrix/client/versions", "", nil)
	wantStatus(t, status, body, http.StatusOK)
}

// rawRequest writes text as it stands on a new connection to srv and returns the one
// answer it reads back, with its body; for requests net/http refuses to send.
func rawRequest(t *testing.T, srv *testserver.Server, text string) (*http.Response, []byte) {
	t.Helper()

	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))

	if _, err := io.WriteString(conn, text); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return resp, data
}

// TestAccessTokenTransports checks the ways a client may send its token and the
// ambiguous ways the server refuses: a Bearer header (any case of the scheme) or, as
// spec versions up to v1.19 require, the access_token query parameter; never a request
// that could speak for two users.
func TestAccessTokenTransports(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithOpenRegistration())
	a, b := newAccount(t, srv, "a"), newAccount(t, srv, "b")

	tests := []struct {
		name    string
		headers []string // Authorization values, each its own header line
		query   string
		// wantCode is the errcode of the 401; empty when the request speaks for a.
		wantCode string
	}{
		{name: "Bearer header", headers: []string{"Bearer " + a.token}},
		{name: "lower-case scheme", headers: []string{"bearer " + a.token}},
		{name: "query parameter", query: "?access_token=" + a.token},
		{name: "another scheme", headers: []string{"Token " + a.token},
			wantCode: "M_MISSING_TOKEN"},
		{name: "Basic credentials", headers: []string{"Basic YTpi"},
			wantCode: "M_MISSING_TOKEN"},
		{name: "Bearer without a token", headers: []string{"Bearer"},
			wantCode: "M_MISSING_TOKEN"},
		{name: "token without a scheme", headers: []string{a.token},
			wantCode: "M_MISSING_TOKEN"},
		{name: "empty query parameter", query: "?access_token=", wantCode: "M_MISSING_TOKEN"},
		{name: "header and another user's query token", headers: []string{"Bearer " + a.token},
			query: "?access_token=" + b.token, wantCode: "M_MISSING_TOKEN"},
		{name: "header and the same query token", headers: []string{"Bearer " + a.token},
			query: "?access_token=" + a.token, wantCode: "M_MISSING_TOKEN"},
		{name: "two Authorization headers", headers: []string{"Bearer " + a.token,
			"Bearer " + b.token}, wantCode: "M_MISSING_TOKEN"},
		{name: "made-up Bearer token", headers: []string{"Bearer syt_bogus"},
			wantCode: "M_UNKNOWN_TOKEN"},
		{name: "made-up query token", query: "?access_token=syt_bogus",
			wantCode: "M_UNKNOWN_TOKEN"},
		{name: "well formed, never issued",
			headers: []string{"Bearer " + token.New(token.Access)}, wantCode: "M_UNKNOWN_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", api(srv, "/account/whoami")+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tt.headers {
				req.Header.Add("Authorization", h)
			}
			status, _, body, err := roundTrip(req)
			if err != nil {
				t.Fatal(err)
			}

			if tt.wantCode != "" {
				wantError(t, status, body, http.StatusUnauthorized, tt.wantCode)
				return
			}
			wantStatus(t, status, body, http.StatusOK)
			if body["user_id"] != a.userID || body["device_id"] != a.deviceID {
				t.Errorf("whoami %v, want %s on %s", body, a.userID, a.deviceID)
			}
		})
	}
}
