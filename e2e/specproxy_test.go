package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// With envSpecProxy set, every test server gets a specproxy of its own in front
// (../shared/spec/specproxy, beside the repository): a loopback reverse proxy that checks
// each exchange against the official OpenAPI files of the Client-Server API and writes a
// JSON line for each one that breaks them. The clients of the tests talk to the proxy;
// when the test ends, each answer of the server that broke the files fails it. What a
// test reads from the store, or a registration token it makes, still goes to the server
// directly.

// envSpecProxy names the environment variable that holds the path of a specproxy binary,
// built with `go build` in ../shared/spec/specproxy. Without it the tests talk to the
// servers directly.
const envSpecProxy = "MXACCOUNTS_TEST_SPECPROXY"

// envRequireSpecProxy names an environment variable that, when set to anything but the
// empty string, turns running without specproxy (envSpecProxy unset) into a failure of
// every test that starts a server, so that CI cannot pass without the checks.
const envRequireSpecProxy = "MXACCOUNTS_TEST_REQUIRE_SPECPROXY"

// envSpecDir names the environment variable that holds the folder of the OpenAPI files
// specproxy checks against; a relative path is relative to this package's directory.
const envSpecDir = "MXACCOUNTS_TEST_SPEC_DIR"

// defaultSpecDir is the spec folder without envSpecDir: the copy in the sibling
// directory shared of the repository, relative to this package's directory.
const defaultSpecDir = "../../shared/spec/matrix-client-server"

// specProxyStartTimeout bounds the wait for a started proxy to answer.
const specProxyStartTimeout = 15 * time.Second

// specProxyStopTimeout bounds the wait for a proxy to stop after SIGINT; the proxy
// itself gives in-flight exchanges 10s.
const specProxyStopTimeout = 20 * time.Second

// specProxyAttempts is how often a proxy is started on a fresh free port when it exits
// before answering, as it does when another process took the port in between.
const specProxyAttempts = 3

// specProxyOffOnce makes the note that the tests run without specproxy appear once.
var specProxyOffOnce sync.Once

// behindSpecProxy returns srv unchanged when envSpecProxy is not set, and otherwise a
// copy of srv whose URL is that of a specproxy started in front of it. The proxy is
// stopped when t ends, and every answer of srv that it reports as breaking the OpenAPI
// files fails t. It fails t when envRequireSpecProxy is set and envSpecProxy is not,
// when the spec folder does not exist, or when the proxy does not start.
func behindSpecProxy(t *testing.T, srv *testserver.Server) *testserver.Server {
	t.Helper()

	bin := os.Getenv(envSpecProxy)
	if bin == "" {
		msg := fmt.Sprintf("set %s to a specproxy binary, built with `go build` in "+
			"../shared/spec/specproxy, to check every answer against the OpenAPI files",
			envSpecProxy)
		if os.Getenv(envRequireSpecProxy) != "" {
			t.Fatalf("*** specproxy checks FAILED: %s is set, so they must run: %s ***",
				envRequireSpecProxy, msg)
		}
		specProxyOffOnce.Do(func() { t.Logf("*** specproxy checks SKIPPED: %s ***", msg) })
		return srv
	}

	specDir := specFolder(t)
	report := filepath.Join(t.TempDir(), "spec.jsonl")
	var p *specProxy
	var err error
	for attempt := 1; attempt <= specProxyAttempts; attempt++ {
		p, err = startSpecProxy(bin, srv.URL, specDir, report)
		if err == nil || !errors.Is(err, errSpecProxyExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("start specproxy %s in front of %s: %v", bin, srv.URL, err)
	}

	t.Cleanup(func() {
		p.stop(t)
		checkSpecReport(t, report, p)
	})
	proxied := *srv
	proxied.URL = p.url
	return &proxied
}

// specFolder returns the absolute path of the spec folder, from envSpecDir or
// defaultSpecDir, and fails t when it is no directory.
func specFolder(t *testing.T) string {
	t.Helper()

	dir := os.Getenv(envSpecDir)
	if dir == "" {
		dir = defaultSpecDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("make the spec folder %q absolute: %v", dir, err)
	}
	info, err := os.Stat(abs)
	if err != nil || !info.IsDir() {
		t.Fatalf("the spec folder %s (%s, default %s) is no directory: %v", abs,
			envSpecDir, defaultSpecDir, err)
	}
	return abs
}

// specProxy is a running specproxy process.
type specProxy struct {
	// url is the base URL clients use, http://127.0.0.1:PORT.
	url string
	cmd *exec.Cmd
	// exited receives the result of cmd.Wait once.
	exited chan error
	// stdout gets the summary table at exit; stderr the start-up line and problems.
	stdout, stderr *lockedBuffer
}

// errSpecProxyExited is the error of startSpecProxy when the proxy exits before it
// answers.
var errSpecProxyExited = errors.New("specproxy exited before it answered")

// startSpecProxy starts bin on a free loopback port in front of upstream, checking
// against specDir and reporting to report, and waits until it answers. It returns
// errSpecProxyExited, with the proxy's stderr, when the proxy exits first, and another
// error when it cannot be started or does not answer in time (then it is killed).
func startSpecProxy(bin, upstream, specDir, report string) (*specProxy, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(bin, "-listen", addr, "-upstream", upstream, "-spec", specDir,
		"-report", report, "-q")
	p := &specProxy{url: "http://" + addr, cmd: cmd, exited: make(chan error, 1),
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() { p.exited <- cmd.Wait() }()

	if err := p.waitUp(); err != nil {
		return nil, err
	}
	return p, nil
}

// freeLoopbackAddr returns a loopback address with a port that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("free loopback port %s: %w", addr, err)
	}
	return addr, nil
}

// waitUp polls GET /_matrix/client/versions through the proxy until it answers with
// any status. It kills the proxy when it does not answer within specProxyStartTimeout.
func (p *specProxy) waitUp() error {
	versions := p.url + "/_matrix/client/versions"
	deadline := time.Now().Add(specProxyStartTimeout)
	client := &http.Client{Timeout: time.Second}

	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			return fmt.Errorf("%w (%v); stderr:\n%s", errSpecProxyExited, err, p.stderr)
		default:
		}

		resp, err := client.Get(versions)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}

	p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("GET %s got no answer within %v; stderr:\n%s", versions,
		specProxyStartTimeout, p.stderr)
}

// stop sends the proxy SIGINT, so that it finishes its report, and waits for it; it
// fails t when the proxy exits with an error or must be killed.
func (p *specProxy) stop(t *testing.T) {
	t.Helper()

	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Errorf("send SIGINT to specproxy %s: %v", p.url, err)
	}

	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("specproxy %s exited with %v; stderr:\n%s", p.url, err, p.stderr)
		}
	case <-time.After(specProxyStopTimeout):
		p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("specproxy %s did not stop within %v of SIGINT; killed it; stderr:\n%s",
			p.url, specProxyStopTimeout, p.stderr)
	}
}

// specFinding is the part of a line of specproxy's report that the tests read.
type specFinding struct {
	Method     string `json:"method"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	Operation  string `json:"operation"`
	Status     int    `json:"status"`
	Server     bool   `json:"server"`
	Violations []struct {
		Side    string `json:"side"`
		Kind    string `json:"kind"`
		At      string `json:"at"`
		Message string `json:"message"`
	} `json:"violations"`
	Response string `json:"response"`
}

// checkSpecReport fails t once for each line of the report at path whose answer broke
// the spec (server true), but for the known false positive that specAllowed names. It
// logs the proxy's summary table when there is such a line.
func checkSpecReport(t *testing.T, path string, p *specProxy) {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read the specproxy report: %v", err)
		return
	}

	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var f specFinding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Errorf("%s line %d is no report line: %v: %q", path, n, err, sc.Bytes())
			continue
		}
		if !f.Server || specAllowed(f) {
			continue
		}
		found = true
		t.Errorf("specproxy: the answer to %s breaks the OpenAPI files:\n%s", f.request(),
			f.describe())
	}
	if err := sc.Err(); err != nil {
		t.Errorf("read the specproxy report %s: %v", path, err)
	}

	if found {
		t.Logf("specproxy summary:\n%s", p.stdout)
	}
}

// specAllowed reports whether f is the one known false positive: the application-service
// spec answers a registration of type m.login.application_service without an as_token
// with 401 M_MISSING_TOKEN, which the OpenAPI file does not list for /register.
func specAllowed(f specFinding) bool {
	if f.Operation != "register" || f.Status != http.StatusUnauthorized {
		return false
	}

	var body struct {
		ErrCode string `json:"errcode"`
	}
	if err := json.Unmarshal([]byte(f.Response), &body); err != nil {
		return false
	}
	return body.ErrCode == "M_MISSING_TOKEN"
}

// request returns the method, path and query of f.
func (f specFinding) request() string {
	s := f.Method + " " + f.Path
	if f.Query != "" {
		s += "?" + f.Query
	}
	return s
}

// describe returns the operation, status, violations and response excerpt of f, one
// per line.
func (f specFinding) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\toperation %s, status %d\n", f.Operation, f.Status)
	for _, v := range f.Violations {
		fmt.Fprintf(&b, "\t%s %s at %q: %s\n", v.Side, v.Kind, v.At, v.Message)
	}
	fmt.Fprintf(&b, "\tresponse: %s", f.Response)
	return b.String()
}

// lockedBuffer is a bytes.Buffer that a process may write while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer; it never fails.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSpecAllowed checks that the report filter passes over exactly the known false
// positive and nothing near it.
func TestSpecAllowed(t *testing.T) {
	t.Parallel()

	missing := `{"errcode":"M_MISSING_TOKEN","error":"no as_token"}`
	tests := []struct {
		name string
		f    specFinding
		want bool
	}{
		{"register 401 M_MISSING_TOKEN",
			specFinding{Operation: "register", Status: 401, Response: missing}, true},
		{"register 401 M_UNKNOWN_TOKEN",
			specFinding{Operation: "register", Status: 401,
				Response: `{"errcode":"M_UNKNOWN_TOKEN"}`}, false},
		{"register 403 M_MISSING_TOKEN",
			specFinding{Operation: "register", Status: 403, Response: missing}, false},
		{"login 401 M_MISSING_TOKEN",
			specFinding{Operation: "login", Status: 401, Response: missing}, false},
		{"register 401, cut-off body",
			specFinding{Operation: "register", Status: 401,
				Response: `{"errcode":"M_MISSING_TOKEN","error":"no as_tok`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := specAllowed(tt.f); got != tt.want {
				t.Errorf("specAllowed(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}
