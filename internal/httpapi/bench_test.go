package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// BenchmarkWhoami measures an authenticated request end to end over loopback HTTP: token
// check, requester lookup (one indexed read) and the JSON answer.
func BenchmarkWhoami(b *testing.B) {
	srv := testserver.Start(b, testserver.WithOpenRegistration())
	tok := benchRegister(b, srv, "bencher")
	req, _ := http.NewRequest("GET", api(srv, "/account/whoami"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchDo(b, req.Clone(req.Context()))
		}
	})
}

// BenchmarkRegisterAvailable measures the username check of a name never registered.
func BenchmarkRegisterAvailable(b *testing.B) {
	srv := testserver.Start(b)
	req, _ := http.NewRequest("GET", api(srv, "/register/available?username=free.name"),
		nil)

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchDo(b, req.Clone(req.Context()))
		}
	})
}

func benchRegister(b *testing.B, srv *testserver.Server, name string) string {
	b.Helper()
	status, _, body, err := send("POST", api(srv, "/register"), "", map[string]any{
		"username": name, "password": secret, "auth": map[string]any{"type": "m.login.dummy"}})
	if err != nil || status != http.StatusOK {
		b.Fatalf("register: %d %v %v", status, body, err)
	}
	return body["access_token"].(string)
}

func benchDo(b *testing.B, req *http.Request) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Error(fmt.Errorf("status %d", resp.StatusCode))
	}
}
