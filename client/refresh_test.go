package client_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// refreshServer is a fake server whose access tokens expire: whoami accepts only the
// current access token and soft-logs-out any other; /refresh swaps the current refresh
// token for a new pair.
type refreshServer struct {
	*fakeServer

	mu           sync.Mutex
	access       string
	refresh      string
	generation   int
	softLogout   bool
	rejectAll    bool
	expiresInMS  int64
	keepRefresh  bool
	refreshCalls int
}

func newRefreshServer(t *testing.T) *refreshServer {
	rs := &refreshServer{access: "at1", refresh: "rt1", softLogout: true, generation: 1}
	rs.fakeServer = newFakeServer(t, map[string]http.HandlerFunc{
		"GET /_matrix/client/v3/account/whoami": rs.whoami,
		"POST /_matrix/client/v3/refresh": func(w http.ResponseWriter, r *http.Request) {
			rs.refreshHandler(t, w, r)
		},
	})
	return rs
}

func (rs *refreshServer) whoami(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.rejectAll || r.Header.Get("Authorization") != "Bearer "+rs.access {
		soft := ""
		if rs.softLogout {
			soft = `,"soft_logout":true`
		}
		writeJSON(w, http.StatusUnauthorized,
			`{"errcode":"M_UNKNOWN_TOKEN","error":"expired"`+soft+`}`)
		return
	}
	writeJSON(w, http.StatusOK, `{"user_id":"@u:hs","device_id":"D"}`)
}

func (rs *refreshServer) refreshHandler(t *testing.T, w http.ResponseWriter, r *http.Request) {
	var body client.RefreshRequest
	if err := json.Unmarshal(readBody(t, r), &body); err != nil {
		t.Errorf("refresh body: %v", err)
	}

	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.refreshCalls++
	if body.RefreshToken != rs.refresh || r.Header.Get("Authorization") != "" {
		writeJSON(w, http.StatusUnauthorized,
			`{"errcode":"M_UNKNOWN_TOKEN","error":"unknown refresh token","soft_logout":true}`)
		return
	}
	rs.generation++
	rs.access = "at" + string(rune('0'+rs.generation))
	out := map[string]any{"access_token": rs.access}
	if !rs.keepRefresh {
		rs.refresh = "rt" + string(rune('0'+rs.generation))
		out["refresh_token"] = rs.refresh
	}
	if rs.expiresInMS > 0 {
		out["expires_in_ms"] = rs.expiresInMS
	}
	data, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, string(data))
}

// paths returns the paths of the requests received, in order.
func (rs *refreshServer) paths() []string {
	var out []string
	for _, r := range rs.requests() {
		out = append(out, r.Path[strings.LastIndex(r.Path, "/")+1:])
	}
	return out
}

// TestRefreshAfterSoftLogout checks that a soft-logged-out token is refreshed once and
// the request sent again, and that OnRefresh hears of the new tokens.
func TestRefreshAfterSoftLogout(t *testing.T) {
	t.Parallel()
	rs := newRefreshServer(t)
	rs.access = "at-new" // the client's at1 has expired
	rs.expiresInMS = 3_600_000
	var heard []client.Tokens
	c, err := client.New(client.Options{BaseURL: rs.URL,
		Tokens:    client.Tokens{AccessToken: "at1", RefreshToken: "rt1"},
		OnRefresh: func(t client.Tokens) { heard = append(heard, t) }})
	if err != nil {
		t.Fatal(err)
	}

	who, err := c.Whoami(t.Context())
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if who.UserID != "@u:hs" {
		t.Errorf("whoami %+v", who)
	}

	if got := strings.Join(rs.paths(), " "); got != "whoami refresh whoami" {
		t.Errorf("requests %q, want whoami refresh whoami", got)
	}
	tok := c.Tokens()
	if tok.AccessToken != "at2" || tok.RefreshToken != "rt2" ||
		time.Until(tok.ExpiresAt) < 59*time.Minute {
		t.Errorf("tokens %+v, want at2, rt2 and an expiry in an hour", tok)
	}
	if len(heard) != 1 || heard[0] != tok {
		t.Errorf("OnRefresh heard %+v, want [%+v]", heard, tok)
	}
}

// TestRefreshBeforeExpiry checks that a token about to expire is refreshed before the
// request, and that a refresh answer without a refresh token keeps the old one.
func TestRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	rs := newRefreshServer(t)
	rs.access = "at-new"
	rs.keepRefresh = true
	c := newClient(t, rs.URL, client.Tokens{AccessToken: "at1", RefreshToken: "rt1",
		ExpiresAt: time.Now().Add(5 * time.Second)})

	if _, err := c.Whoami(t.Context()); err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if got := strings.Join(rs.paths(), " "); got != "refresh whoami" {
		t.Errorf("requests %q, want refresh whoami", got)
	}
	if tok := c.Tokens(); tok.RefreshToken != "rt1" || !tok.ExpiresAt.IsZero() {
		t.Errorf("tokens %+v, want rt1 kept and no expiry", tok)
	}
}

// TestNoRefresh checks the cases in which the client must not refresh, or refreshes
// only once.
func TestNoRefresh(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		tokens    client.Tokens
		setup     func(rs *refreshServer)
		wantPaths string
	}{
		{"hard logout", client.Tokens{AccessToken: "at0", RefreshToken: "rt1"},
			func(rs *refreshServer) { rs.softLogout = false }, "whoami"},
		{"no refresh token", client.Tokens{AccessToken: "at0"},
			func(*refreshServer) {}, "whoami"},
		{"refresh token refused", client.Tokens{AccessToken: "at0", RefreshToken: "rt0"},
			func(*refreshServer) {}, "whoami refresh"},
		{"refreshed token refused too", client.Tokens{AccessToken: "at0",
			RefreshToken: "rt1"},
			func(rs *refreshServer) { rs.rejectAll = true }, "whoami refresh whoami"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs := newRefreshServer(t)
			tt.setup(rs)

			_, err := newClient(t, rs.URL, tt.tokens).Whoami(t.Context())

			wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
			if got := strings.Join(rs.paths(), " "); got != tt.wantPaths {
				t.Errorf("requests %q, want %q", got, tt.wantPaths)
			}
		})
	}
}

// TestRefreshShared checks that requests failing together on one expired token share
// one refresh.
func TestRefreshShared(t *testing.T) {
	t.Parallel()
	rs := newRefreshServer(t)
	rs.access = "at-new"
	c := newClient(t, rs.URL, client.Tokens{AccessToken: "at1", RefreshToken: "rt1"})

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Whoami(t.Context())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("whoami: %v", err)
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.refreshCalls != 1 {
		t.Errorf("%d refreshes, want 1", rs.refreshCalls)
	}
}

// TestRefreshByHand checks the Refresh call: its body, no access token, and that it
// leaves the client's tokens alone.
func TestRefreshByHand(t *testing.T) {
	t.Parallel()
	rs := newRefreshServer(t)
	rs.expiresInMS = 60_000
	c := newClient(t, rs.URL, client.Tokens{AccessToken: "at1", RefreshToken: "rt1"})

	resp, err := c.Refresh(t.Context(), &client.RefreshRequest{RefreshToken: "rt1"})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if resp.AccessToken != "at2" || resp.RefreshToken != "rt2" || resp.ExpiresInMS != 60_000 {
		t.Errorf("answer %+v", resp)
	}
	wantJSON(t, rs.last(t).Body, `{"refresh_token":"rt1"}`)
	if c.Tokens().AccessToken != "at1" {
		t.Error("Refresh changed the client's tokens")
	}

	_, err = c.Refresh(t.Context(), &client.RefreshRequest{RefreshToken: "rt1"})
	wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
}

// TestRefreshRealServer lets the real server's access tokens expire after a second and
// checks both automatic refreshes: after the soft logout of an expired token, and
// before the expiry the client knows of.
func TestRefreshRealServer(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Tokens.AccessLifetime = time.Second
	}))
	registerUser(t, srv, "sam")
	login := func() *client.LoginResponse {
		t.Helper()
		resp, err := newClient(t, srv.URL, client.Tokens{}).Login(t.Context(),
			&client.LoginRequest{Type: client.LoginTypePassword,
				Identifier: client.ByUser("sam"), Password: testPassword, RefreshToken: true})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if resp.RefreshToken == "" || resp.ExpiresInMS != 1000 {
			t.Fatalf("login answer %+v, want a refresh token and expires_in_ms 1000", resp)
		}
		return resp
	}

	t.Run("after soft logout", func(t *testing.T) {
		t.Parallel()
		resp := login()
		// Without ExpiresAt the client learns of the expiry from the server only.
		c := newClient(t, srv.URL, client.Tokens{AccessToken: resp.AccessToken,
			RefreshToken: resp.RefreshToken})
		time.Sleep(1100 * time.Millisecond)

		_, err := newClient(t, srv.URL, client.Tokens{AccessToken: resp.AccessToken}).
			Whoami(t.Context())
		e := wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
		if !e.SoftLogout {
			t.Fatal("an expired token is refused without soft_logout")
		}

		if _, err := c.Whoami(t.Context()); err != nil {
			t.Fatalf("whoami with an expired token and a refresh token: %v", err)
		}
		if tok := c.Tokens(); tok.AccessToken == resp.AccessToken ||
			tok.RefreshToken == resp.RefreshToken {
			t.Errorf("tokens were not replaced")
		}
	})

	t.Run("before expiry", func(t *testing.T) {
		t.Parallel()
		resp := login()
		var heard client.Tokens
		c, err := client.New(client.Options{BaseURL: srv.URL, Tokens: resp.Tokens(),
			OnRefresh: func(t client.Tokens) { heard = t }})
		if err != nil {
			t.Fatal(err)
		}

		if _, err := c.Whoami(t.Context()); err != nil {
			t.Fatalf("whoami: %v", err)
		}
		if heard.AccessToken == "" || heard != c.Tokens() {
			t.Errorf("OnRefresh heard %+v, client holds %+v", heard, c.Tokens())
		}

		// The old refresh token is revoked once the new pair is used.
		_, err = c.Refresh(t.Context(), &client.RefreshRequest{RefreshToken: resp.RefreshToken})
		wantMatrixError(t, err, mxerr.ErrUnknownToken, http.StatusUnauthorized)
	})
}
