// Package identitytest runs a fake identity server for tests: an httptest server on
// 127.0.0.1 that speaks the v2 wire format of POST /_matrix/identity/v2/3pid/bind and
// /3pid/unbind. It keeps validation sessions and bindings in memory, checks the Bearer
// token on bind, and on unbind verifies the homeserver's X-Matrix signature against the
// homeserver's published keys the way Sydent does: the signed object carries
// destination_is, the fake's own name.
package identitytest

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/signing"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// DefaultAccessToken is the identity access token the fake accepts when Options give
// none.
const DefaultAccessToken = "identitytest-access-token"

// maxBody bounds the request bodies the fake reads.
const maxBody = 64 << 10

// Options configures the fake.
type Options struct {
	// AccessToken is the Bearer token bind accepts; empty means DefaultAccessToken.
	AccessToken string
	// Homeserver, when set, is the only origin whose signed unbinds are accepted.
	Homeserver string
	// HomeserverKeys are the homeserver's verify keys by key ID, given directly.
	HomeserverKeys map[string]ed25519.PublicKey
	// KeyURL is where the fake fetches the origin's key document (the homeserver's
	// GET /_matrix/key/v2/server) on each unbind when HomeserverKeys is empty. It
	// must be a loopback URL.
	KeyURL string
	// TLS serves https with httptest's certificate; TLSConfig returns a client
	// configuration that trusts it.
	TLS bool
}

// Session is a validation session of the fake, as requestToken and submitToken would
// have left it.
type Session struct {
	// SID is the session ID that requestToken would have returned.
	SID string
	// ClientSecret is the secret the client chose for the session.
	ClientSecret string
	// Medium is "email" or "msisdn".
	Medium string
	// Address is the 3PID's canonical address.
	Address string
	// Validated is true once the user proved ownership; bind needs it.
	Validated bool
}

// Server is the running fake.
type Server struct {
	t    testing.TB
	opts Options
	srv  *httptest.Server
	key  signing.Key

	mu       sync.Mutex
	sessions map[string]Session
	bindings map[threePID]mxid.UserID
	canned   *cannedAnswer
	unbinds  int
}

type threePID struct{ medium, address string }

// cannedAnswer replaces the unbind endpoint's behaviour.
type cannedAnswer struct {
	status      int
	contentType string
	body        string
}

// New starts the fake on 127.0.0.1 and stops it when the test ends. It fails the test
// when KeyURL is set to a host that is not loopback.
func New(t testing.TB, opts Options) *Server {
	t.Helper()

	if opts.AccessToken == "" {
		opts.AccessToken = DefaultAccessToken
	}
	if opts.KeyURL != "" && !isLoopbackURL(opts.KeyURL) {
		t.Fatalf("identitytest: key URL %s is not on a loopback host", opts.KeyURL)
	}
	key, err := signing.GenerateKey()
	if err != nil {
		t.Fatalf("identitytest: %v", err)
	}

	s := &Server{t: t, opts: opts, key: key, sessions: map[string]Session{},
		bindings: map[threePID]mxid.UserID{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/identity/v2", s.handleStatus)
	mux.HandleFunc("POST /_matrix/identity/v2/3pid/bind", s.handleBind)
	mux.HandleFunc("POST /_matrix/identity/v2/3pid/unbind", s.handleUnbind)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "unrecognised request")
	})

	s.srv = httptest.NewUnstartedServer(mux)
	if opts.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	return s
}

// Name returns "127.0.0.1:<port>": the id_server value that reaches the fake, and the
// name it expects as destination_is.
func (s *Server) Name() string { return s.srv.Listener.Addr().String() }

// URL returns the fake's base URL.
func (s *Server) URL() string { return s.srv.URL }

// TLSConfig returns a client configuration that trusts the fake's certificate, or nil
// when the fake serves plain http.
func (s *Server) TLSConfig() *tls.Config {
	if !s.opts.TLS {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// PublicKey returns the key ID and public key with which the fake signs associations,
// as its /pubkey endpoint would.
func (s *Server) PublicKey() (string, ed25519.PublicKey) { return s.key.ID, s.key.Public() }

// AddSession stores a validation session, replacing one with the same SID.
func (s *Server) AddSession(sess Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.SID] = sess
}

// Binding returns the user a 3PID is bound to, if any.
func (s *Server) Binding(medium, address string) (mxid.UserID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.bindings[threePID{medium, address}]
	return u, ok
}

// SetBinding binds a 3PID directly, as an earlier bind would have.
func (s *Server) SetBinding(medium, address string, userID mxid.UserID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bindings[threePID{medium, address}] = userID
}

// AnswerUnbind makes every later unbind get this status, content type and body, as a
// server without unbind support or in trouble would answer; status 0 restores the
// normal behaviour.
func (s *Server) AnswerUnbind(status int, contentType, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.canned = nil
	if status != 0 {
		s.canned = &cannedAnswer{status: status, contentType: contentType, body: body}
	}
}

// UnbindCount returns how many unbind requests reached the fake.
func (s *Server) UnbindCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unbinds
}

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{})
}

// handleBind implements POST /3pid/bind
// (https://spec.matrix.org/v1.13/identity-service-api/#post_matrixidentityv23pidbind).
func (s *Server) handleBind(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token != s.opts.AccessToken {
		writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED",
			"missing or unknown identity access token")
		return
	}

	var body struct {
		SID          string      `json:"sid"`
		ClientSecret string      `json:"client_secret"`
		UserID       mxid.UserID `json:"mxid"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the body is not the JSON asked")
		return
	}
	if body.SID == "" || body.ClientSecret == "" || body.UserID == "" {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM",
			"sid, client_secret and mxid are required")
		return
	}

	assoc, refusal := s.bind(body.SID, body.ClientSecret, body.UserID)
	if refusal != nil {
		writeError(w, refusal.status, refusal.code, refusal.msg)
		return
	}
	writeRaw(w, http.StatusOK, assoc)
}

// bind records the binding of a validated session and returns the signed association,
// or the refusal.
func (s *Server) bind(sid, secret string, userID mxid.UserID) ([]byte, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()

	sess, ok := s.sessions[sid]
	if !ok || sess.ClientSecret != secret {
		return nil, &apiError{http.StatusNotFound, "M_NO_VALID_SESSION",
			"no valid session was found matching that sid and client secret"}
	}
	if !sess.Validated {
		return nil, &apiError{http.StatusBadRequest, "M_SESSION_NOT_VALIDATED",
			"this validation session has not yet been completed"}
	}
	s.bindings[threePID{sess.Medium, sess.Address}] = userID

	now := time.Now().UnixMilli()
	assoc := map[string]any{
		"medium": sess.Medium, "address": sess.Address, "mxid": userID,
		"not_before": now, "not_after": now + 100*365*24*3600*1000, "ts": now,
	}
	signed, err := signing.SignJSON(assoc, s.Name(), s.key)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "M_UNKNOWN", err.Error()}
	}
	return signed, nil
}

// handleUnbind implements POST /3pid/unbind
// (https://spec.matrix.org/v1.13/identity-service-api/#post_matrixidentityv23pidunbind)
// for requests signed by a homeserver; the sid and client_secret form is not
// implemented. Unbinding a 3PID that is not bound to the user succeeds: afterwards it is
// not bound either way.
func (s *Server) handleUnbind(w http.ResponseWriter, r *http.Request) {
	if canned := s.countUnbind(); canned != nil {
		if canned.contentType != "" {
			w.Header().Set("Content-Type", canned.contentType)
		}
		w.WriteHeader(canned.status)
		_, _ = io.WriteString(w, canned.body)
		return
	}

	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the body could not be read")
		return
	}
	var body struct {
		UserID   mxid.UserID `json:"mxid"`
		ThreePID *struct {
			Medium  string `json:"medium"`
			Address string `json:"address"`
		} `json:"threepid"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		writeError(w, http.StatusBadRequest, "M_BAD_JSON", "the body is not the JSON asked")
		return
	}
	if body.UserID == "" || body.ThreePID == nil {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM", "mxid and threepid are required")
		return
	}

	origin, refusal := s.verify(r, raw)
	if refusal != nil {
		s.t.Logf("identitytest: unbind refused: %s", refusal.msg)
		writeError(w, refusal.status, refusal.code, refusal.msg)
		return
	}
	if body.UserID.ServerName() != origin {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN",
			fmt.Sprintf("%s may not unbind %s", origin, body.UserID))
		return
	}

	s.mu.Lock()
	key := threePID{body.ThreePID.Medium, body.ThreePID.Address}
	if s.bindings[key] == body.UserID {
		delete(s.bindings, key)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// countUnbind counts an unbind request and returns the canned answer, if one is set.
func (s *Server) countUnbind() *cannedAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unbinds++
	return s.canned
}

// verify checks the request's X-Matrix signature and returns its origin, or the
// refusal: 401 M_UNAUTHORIZED for a request addressed to another server, 403
// M_UNAUTHORIZED for every other failure.
func (s *Server) verify(r *http.Request, body []byte) (string, *apiError) {
	var auth signing.XMatrix
	var err error
	for _, h := range r.Header.Values("Authorization") {
		if auth, err = signing.ParseAuthorization(h); err == nil {
			break
		}
	}
	if auth.Origin == "" {
		return "", forbidden("no valid X-Matrix authorization")
	}
	if s.opts.Homeserver != "" && auth.Origin != s.opts.Homeserver {
		return "", forbidden("unknown origin " + auth.Origin)
	}

	keys, err := s.keysOf(auth.Origin)
	if err != nil {
		return "", forbidden(err.Error())
	}
	pub, ok := keys[auth.KeyID]
	if !ok {
		return "", forbidden(fmt.Sprintf("%s publishes no key %s", auth.Origin, auth.KeyID))
	}

	req := signing.Request{Method: r.Method, URI: r.RequestURI, Destination: s.Name(),
		ForIdentityServer: true, Content: body}
	if err := signing.VerifyRequest(req, auth, pub); errors.Is(err,
		signing.ErrWrongDestination) {
		return "", &apiError{http.StatusUnauthorized, "M_UNAUTHORIZED", err.Error()}
	} else if err != nil {
		return "", forbidden("invalid homeserver signature: " + err.Error())
	}
	return auth.Origin, nil
}

// keysOf returns the verify keys of origin: the ones given in Options, or the ones in
// the key document at KeyURL, which must be for origin and signed by its keys.
func (s *Server) keysOf(origin string) (map[string]ed25519.PublicKey, error) {
	if len(s.opts.HomeserverKeys) > 0 {
		return s.opts.HomeserverKeys, nil
	}
	if s.opts.KeyURL == "" {
		return nil, errors.New("no homeserver keys configured")
	}

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.opts.KeyURL)
	if err != nil {
		return nil, fmt.Errorf("fetch the keys of %s: %w", origin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the keys of %s: status %d, %v", origin,
			resp.StatusCode, err)
	}
	return signing.VerifyServerKeys(body, origin, time.Now())
}

// apiError is a refusal: the status, errcode and message of the answer.
type apiError struct {
	status    int
	code, msg string
}

// forbidden is the refusal of an unbind whose signature does not check out.
func forbidden(msg string) *apiError {
	return &apiError{http.StatusForbidden, "M_UNAUTHORIZED", msg}
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"errcode": code, "error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	writeRaw(w, status, body)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
