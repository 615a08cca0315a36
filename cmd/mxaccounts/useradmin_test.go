package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// userCLI runs "mxaccounts user ..." on one data directory, with stdin as the input.
type userCLI struct {
	t    *testing.T
	data string
}

// run runs the user command args and returns its output; stdout and stderr when
// combined is set, stdout alone otherwise.
func (c userCLI) run(stdin string, args ...string) (string, error) {
	c.t.Helper()

	cmd := command(append(append([]string{"user"}, args...), "--data", c.data)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return string(out) + stderr.String(), err
}

// must runs args and fails the test if the command fails.
func (c userCLI) must(stdin string, args ...string) string {
	c.t.Helper()

	out, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("user %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// showJSON returns the account of user as show --json prints it.
func (c userCLI) showJSON(user string) map[string]any {
	c.t.Helper()

	var out map[string]any
	if err := json.Unmarshal([]byte(c.must("", "show", user, "--json")), &out); err != nil {
		c.t.Fatalf("show %s --json: %v", user, err)
	}
	return out
}

// TestUserAdminCommands runs every user command on the built binary, then starts the
// server on the same data to see that they took effect, and reads their audit events
// through the admin API.
func TestUserAdminCommands(t *testing.T) {
	c := userCLI{t: t, data: t.TempDir()}
	const pw = "a sturdy password, 9 lanterns\n"
	c.must(pw, "create", "chief", "--admin")
	c.must(pw, "create", "alice")
	c.must(pw, "create", "bob")

	out := c.must("", "list")
	for _, want := range []string{`@alice:localhost\s+user\s+false\s+\S+\s+active`,
		`@chief:localhost\s+user\s+true`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("user list does not match %s:\n%s", want, out)
		}
	}

	// lock and suspend, and their reversal, show in show and in list.
	c.must("", "lock", "alice")
	if got := c.showJSON("@alice:localhost"); got["locked"] != true {
		t.Errorf("after lock: %v", got)
	}
	if out := c.must("", "list"); strings.Contains(out, "@alice") {
		t.Errorf("list shows a locked account without --locked:\n%s", out)
	}
	if out := c.must("", "list", "--locked"); !strings.Contains(out, "locked") {
		t.Errorf("list --locked:\n%s", out)
	}
	c.must("", "unlock", "alice")
	c.must("", "suspend", "bob")
	if got := c.showJSON("bob"); got["suspended"] != true || got["locked"] != false {
		t.Errorf("after suspend: %v", got)
	}
	c.must("", "unsuspend", "bob")
	if got := c.showJSON("bob"); got["suspended"] != false {
		t.Errorf("after unsuspend: %v", got)
	}

	// passwd reads the new password from a file or stdin, never from the arguments.
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("the new password, 4 otters\n"), 0o600)
	c.must("", "passwd", "alice", "--password-file", pwFile)
	if out, err := c.run("", "passwd", "bob", "the-password-itself"); err == nil ||
		!strings.Contains(out, "unexpected argument") {
		t.Errorf("a password in the arguments was accepted: %s", out)
	}
	if out, err := c.run("password\n", "passwd", "bob"); err == nil ||
		!strings.Contains(out, "M_WEAK_PASSWORD") {
		t.Errorf("a weak password was accepted: %s", out)
	}
	c.must("", "deactivate", "bob", "--erase")
	if got := c.showJSON("bob"); got["deactivated"] != true || got["erased"] != true {
		t.Errorf("after deactivate --erase: %v", got)
	}

	for _, args := range [][]string{{"show", "nobody"}, {"lock", "@x:elsewhere.example"},
		{"frobnicate", "alice"}, {"lock"}} {
		if out, err := c.run("", args...); err == nil {
			t.Errorf("user %v succeeded: %s", args, out)
		}
	}
	if out, _ := c.run("", "show", "nobody"); !strings.Contains(out, "M_NOT_FOUND") {
		t.Errorf("show nobody: %s", out)
	}

	// The server on the same data sees the new password, and the audit log the
	// commands.
	base := serveData(t, c.data)
	token := loginToken(t, base, "alice", "the new password, 4 otters")
	if token == "" {
		t.Fatal("alice cannot log in with the password set by user passwd")
	}
	chief := loginToken(t, base, "chief", strings.TrimSpace(pw))
	events := adminGet(t, base+"/_mxaccounts/admin/v1/audit?user=@bob:localhost&dir=f",
		chief)
	var actions []string
	for _, e := range events["events"].([]any) {
		ev := e.(map[string]any)
		if ev["actor"] != "cli" {
			t.Errorf("event %v not by the command line", ev)
		}
		actions = append(actions, ev["action"].(string)+"/"+ev["outcome"].(string))
	}
	want := "register/success admin.user.suspend/success admin.user.query/success " +
		"admin.user.suspend/success admin.user.query/success " +
		"admin.user.reset_password/failure admin.user.deactivate/success " +
		"admin.user.query/success"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("bob's audit events:\n%s\nwant\n%s", got, want)
	}
}

// serveData starts the server on data with a metrics listener, checks the probes and
// returns the client API's base URL; the server stops when the test ends.
func serveData(t *testing.T, data string) string {
	t.Helper()

	addr, metricsAddr := freeAddr(t), freeAddr(t)
	cmd := command("serve", "--listen", addr, "--data", data)
	cmd.Env = append(cmd.Env, "MXACCOUNTS_METRICS_LISTEN="+metricsAddr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	base := "http://" + addr
	waitUp(t, base)

	for _, path := range []string{"/health", "/ready", "/metrics"} {
		resp, err := http.Get("http://" + metricsAddr + path)
		if err != nil {
			t.Fatalf("GET %s on the metrics listener: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !strings.Contains(string(body), "mxaccounts_db_connections") {
			t.Errorf("/metrics lacks the pool gauges:\n%.500s", body)
		}
	}
	return base
}

// loginToken logs in with a password and returns the access token, "" on failure.
func loginToken(t *testing.T, base, user, password string) string {
	t.Helper()

	out := postJSON(t, base+"/_matrix/client/v3/login", map[string]any{
		"type": "m.login.password", "password": password,
		"identifier": map[string]any{"type": "m.id.user", "user": user}})
	tok, _ := out["access_token"].(string)
	return tok
}

// adminGet sends an authenticated GET and decodes the JSON answer.
func adminGet(t *testing.T, url, token string) map[string]any {
	t.Helper()

	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return out
}
