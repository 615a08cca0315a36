package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// Paths and values shared by the tests in this package.
const (
	v3         = "/_matrix/client/v3"
	serverName = "localhost" // the test server's default server_name
	// secret is the password of the accounts the tests register, strong enough for any
	// password policy.
	secret = "Tq7-lantern-quokka-89!"

	stageDummy = "m.login.dummy"
	stageToken = "m.login.registration_token"
)

// rawBody is a request body sent byte for byte, still labelled as JSON.
type rawBody string

// httpClient talks to the test servers; the timeout keeps a hung server from hanging
// the whole run.
var httpClient = &http.Client{Timeout: 60 * time.Second}

// do sends one request to target with an optional Bearer token and body, and returns the
// status, the headers and the body decoded as a JSON object (nil when the body is empty).
// A body of type rawBody goes out as it is; nil sends no body; anything else is encoded
// as JSON. A transport error or a body that is not a JSON object fails the test.
func do(t *testing.T, method, target, token string, body any) (
	int, http.Header, map[string]any,
) {
	t.Helper()

	status, header, obj, err := send(method, target, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return status, header, obj
}

// send is do without a test: it reports every failure as an error, so goroutines may
// call it.
func send(method, target, token string, body any) (int, http.Header, map[string]any, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd = strings.NewReader(string(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("encode request body: %w", err)
		}
		rd = bytes.NewReader(data)
	}

	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return roundTrip(req)
}

// roundTrip sends req and decodes the answer as do describes.
func roundTrip(req *http.Request) (int, http.Header, map[string]any, error) {
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read response body: %w", err)
	}
	if len(data) == 0 {
		return resp.StatusCode, resp.Header, nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return 0, nil, nil, fmt.Errorf("status %d: body is not a JSON object: %q",
			resp.StatusCode, data)
	}
	return resp.StatusCode, resp.Header, obj, nil
}

// api returns the URL of a v3 client endpoint of srv.
func api(srv *testserver.Server, path string) string { return srv.URL + v3 + path }

// wantStatus fails the test unless the status is want; the body goes in the message.
func wantStatus(t *testing.T, status int, body map[string]any, want int) {
	t.Helper()

	if status != want {
		t.Fatalf("status %d, want %d; body %v", status, want, body)
	}
}

// wantError fails the test unless the answer is a standard error response with status
// want and errcode code (both errcode and error must be strings).
func wantError(t *testing.T, status int, body map[string]any, want int, code string) {
	t.Helper()

	if status != want || body["errcode"] != code {
		t.Fatalf("got %d %v, want %d %s; body %v", status, body["errcode"], want, code, body)
	}
	if _, ok := body["error"].(string); !ok {
		t.Errorf("error is %#v, want a string; body %v", body["error"], body)
	}
}

// wantJSON fails the test unless the Content-Type names JSON.
func wantJSON(t *testing.T, header http.Header) {
	t.Helper()

	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

// wantAbsent fails the test if the body holds any of keys.
func wantAbsent(t *testing.T, body map[string]any, keys ...string) {
	t.Helper()

	for _, k := range keys {
		if v, ok := body[k]; ok {
			t.Errorf("%s is %v, want it absent; body %v", k, v, body)
		}
	}
}

// str returns body[key] as a string, failing the test when it is not a non-empty one.
func str(t *testing.T, body map[string]any, key string) string {
	t.Helper()

	s, ok := body[key].(string)
	if !ok || s == "" {
		t.Fatalf("%s is %#v, want a non-empty string; body %v", key, body[key], body)
	}
	return s
}

// with returns a copy of body with the keys of extra added.
func with(body map[string]any, extra map[string]any) map[string]any {
	out := maps.Clone(body)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, extra)
	return out
}
