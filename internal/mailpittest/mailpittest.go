// Package mailpittest starts Mailpit (https://github.com/axllent/mailpit), a real SMTP
// server that keeps what it receives, on loopback ports for a test, and reads the mail
// back over Mailpit's HTTP API.
//
// Mailpit is found on the PATH or in $GOPATH/bin, where .ci/mailpit.sh installs it:
//
//	bash .ci/mailpit.sh
//	go test ./...
//
// Without it the tests that need it are skipped, loudly, unless EnvRequire is set, in
// which case they fail.
package mailpittest

import (
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// EnvRequire names an environment variable that, when not empty, turns the skip of
// the tests that need Mailpit into a failure, so that CI cannot pass without them.
const EnvRequire = "MXACCOUNTS_TEST_REQUIRE_MAILPIT"

// Server is a running Mailpit.
type Server struct {
	// SMTPAddr is the host:port of its SMTP listener.
	SMTPAddr string
	// APIURL is the base URL of its HTTP API, http://127.0.0.1:PORT.
	APIURL string
	mu     sync.Mutex
	// seen holds the IDs of the messages Wait returned, per recipient.
	seen map[string]map[string]bool
}

// SMTPURL returns the email.smtp_url of a server that sends to this Mailpit in plain
// text.
func (s *Server) SMTPURL() string { return "smtp+insecure://" + s.SMTPAddr }

// Find returns the path of the mailpit binary, or skips the test (fails it when
// EnvRequire is set).
func Find(t testing.TB) string {
	t.Helper()

	if path, err := exec.LookPath("mailpit"); err == nil {
		return path
	}
	path := filepath.Join(build.Default.GOPATH, "bin", "mailpit")
	if _, err := os.Stat(path); err == nil {
		return path
	}

	msg := "NO MAILPIT FOUND: the tests that send real mail did not run; install it " +
		"with bash .ci/mailpit.sh"
	if os.Getenv(EnvRequire) != "" {
		t.Fatalf("%s (%s is set, so this fails)", msg, EnvRequire)
	}
	fmt.Fprintf(os.Stderr, "\n!!! %s: %s\n\n", t.Name(), msg)
	t.Skip(msg)
	return ""
}

// startTimeout bounds how long Mailpit may take to answer on its API.
const startTimeout = 20 * time.Second

// Start runs Mailpit on two free loopback ports, with extra command-line arguments
// (TLS, authentication), and stops it when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Find(t)

	var lastErr error
	for range 3 { // a port picked free may be taken before Mailpit binds it
		s, err := start(t, bin, extra)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("start Mailpit: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string, extra []string) (*Server, error) {
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{SMTPAddr: "127.0.0.1:" + smtpPort, APIURL: "http://127.0.0.1:" + httpPort,
		seen: map[string]map[string]bool{}}

	args := append([]string{"--disable-version-check", "--quiet", "--smtp-disable-rdns",
		"--listen", "127.0.0.1:" + httpPort, "--smtp", s.SMTPAddr}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("mailpit exited at start: %v", err)
		default:
		}
		if resp, err := http.Get(s.APIURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailpit did not answer within %s", startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return s, nil
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// Address is a mail address with its display name.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is a message as Mailpit's API returns it.
type Message struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
}

// Summaries returns the IDs of the messages to the address to, newest first.
func (s *Server) Summaries(t testing.TB, to string) []string {
	t.Helper()

	q := url.Values{"query": {fmt.Sprintf("to:%q", to)}}
	var out struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	s.get(t, "/api/v1/search?"+q.Encode(), &out)
	ids := make([]string, len(out.Messages))
	for i, m := range out.Messages {
		ids[i] = m.ID
	}
	return ids
}

// Message returns the message with this ID.
func (s *Server) Message(t testing.TB, id string) *Message {
	t.Helper()

	var m Message
	s.get(t, "/api/v1/message/"+url.PathEscape(id), &m)
	return &m
}

// Headers returns the headers of the message with this ID.
func (s *Server) Headers(t testing.TB, id string) http.Header {
	t.Helper()

	var h map[string][]string
	s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return http.Header(h)
}

// waitLimit bounds Wait.
const waitLimit = 20 * time.Second

// Wait returns the newest message to the address to that Wait has not returned before,
// waiting for one to arrive; it fails the test when none does in time.
func (s *Server) Wait(t testing.TB, to string) *Message {
	t.Helper()

	if m := s.poll(t, to, waitLimit); m != nil {
		return m
	}
	t.Fatalf("no new mail to %s arrived at Mailpit within %s", to, waitLimit)
	return nil
}

// NoMessage fails the test if a message to the address to that Wait has not returned
// arrives within d.
func (s *Server) NoMessage(t testing.TB, to string, d time.Duration) {
	t.Helper()

	if m := s.poll(t, to, d); m != nil {
		t.Fatalf("a mail to %s arrived, want none: %q\n%s", to, m.Subject, m.Text)
	}
}

// poll looks for an unseen message to the address to until d has passed.
func (s *Server) poll(t testing.TB, to string, d time.Duration) *Message {
	t.Helper()

	deadline := time.Now().Add(d)
	for {
		if id := s.unseen(s.Summaries(t, to), to); id != "" {
			return s.Message(t, id)
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unseen returns the first of ids not yet returned for the address to, and marks it
// seen; "" when all were.
func (s *Server) unseen(ids []string, to string) string {
	s.mu.Lock()
	defer s.mu.Unlock()

	for _, id := range ids {
		if s.seen[to][id] {
			continue
		}
		if s.seen[to] == nil {
			s.seen[to] = map[string]bool{}
		}
		s.seen[to][id] = true
		return id
	}
	return ""
}

// get decodes the JSON answer of the API path into out.
func (s *Server) get(t testing.TB, path string, out any) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+path, nil)
	if err != nil {
		t.Fatalf("Mailpit API %s: %v", path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("Mailpit API %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("Mailpit API %s: status %d: %s", path, resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("Mailpit API %s: decode: %v", path, err)
	}
}
