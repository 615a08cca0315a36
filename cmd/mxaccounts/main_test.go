package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the mxaccounts command built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mxaccounts-cmd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mxaccounts")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build mxaccounts: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// command runs the binary with a clean MXACCOUNTS_* environment.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MXACCOUNTS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "MXACCOUNTS_PASSWORDS_ARGON2_MEMORY_KIB=64")
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestVersionAndUsage(t *testing.T) {
	out, err := command("version").Output()
	if err != nil || !strings.HasPrefix(string(out), "mxaccounts ") {
		t.Errorf("version: %q, %v", out, err)
	}

	err = command("frobnicate").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("an unknown command exits with %v, want status 1", err)
	}
}

func TestTokenCreatePrintsOnlyTheToken(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"token", "create", "--data", data},
		{"token", "create", "--data", data, "--uses", "3", "--expires", "48h"},
	} {
		out, err := command(args...).Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !regexp.MustCompile(`^[0-9A-Za-z._~-]{1,64}\n$`).Match(out) {
			t.Errorf("%v printed %q, want one token line", args, out)
		}
	}

	if err := command("token", "create", "--data", data, "--uses", "-1").Run(); err == nil {
		t.Error("a negative --uses was accepted")
	}
}

func TestInvalidConfigListsEveryProblem(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("server_name: \"\"\nlog: {format: xml}\n"), 0o600)

	var stderr bytes.Buffer
	cmd := command("serve", "--config", cfg, "--data", t.TempDir())
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("serve started with an invalid config")
	}
	for _, want := range []string{"server_name", "log.format"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %s:\n%s", want, stderr.String())
		}
	}
}

// TestServeBootstrapAndShutdown starts the server as an operator would: it prints the
// bootstrap token, the token registers the first user, a token made by "token create"
// while it runs works too, and SIGTERM stops it cleanly.
func TestServeBootstrapAndShutdown(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	cmd := command("serve", "--listen", addr, "--data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	bootstrap := readBootstrapToken(t, stdout)
	base := "http://" + addr
	waitUp(t, base)

	resp := postJSON(t, base+"/_matrix/client/v3/register", map[string]any{
		"username": "first", "password": "correct horse battery",
		"auth": map[string]any{"type": "m.login.registration_token", "token": bootstrap},
	})
	if resp["user_id"] != "@first:localhost" {
		t.Errorf("first registration answered %v", resp)
	}

	out, err := command("token", "create", "--data", data).Output()
	if err != nil {
		t.Fatalf("token create beside a running server: %v", err)
	}
	resp = postJSON(t, base+"/_matrix/client/v3/register", map[string]any{
		"username": "second", "password": "correct horse battery",
		"auth": map[string]any{"type": "m.login.registration_token",
			"token": strings.TrimSpace(string(out))},
	})
	if resp["user_id"] != "@second:localhost" {
		t.Errorf("registration with a created token answered %v", resp)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v after SIGTERM\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), bootstrap) {
		t.Error("the bootstrap token appears in the log")
	}
}

// TestBootstrapTokenSpentByAnotherAccount registers an account with a token made by
// "token create" before anyone used the bootstrap token: the bootstrap token, which
// makes an admin, then registers nobody.
func TestBootstrapTokenSpentByAnotherAccount(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	cmd := command("serve", "--listen", addr, "--data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	bootstrap := readBootstrapToken(t, stdout)
	base := "http://" + addr
	waitUp(t, base)

	out, err := command("token", "create", "--data", data).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	resp := postJSON(t, base+"/_matrix/client/v3/register", map[string]any{
		"username": "early", "password": "correct horse battery",
		"auth": map[string]any{"type": "m.login.registration_token",
			"token": strings.TrimSpace(string(out))},
	})
	if resp["user_id"] != "@early:localhost" {
		t.Fatalf("registration with a created token answered %v", resp)
	}

	resp = getJSON(t, base+"/_matrix/client/v1/register/m.login.registration_token/"+
		"validity?token="+bootstrap)
	if resp["valid"] != false {
		t.Errorf("validity of the spent bootstrap token: %v; want valid false", resp)
	}
	resp = postJSON(t, base+"/_matrix/client/v3/register", map[string]any{
		"username": "late", "password": "correct horse battery",
		"auth": map[string]any{"type": "m.login.registration_token", "token": bootstrap},
	})
	if resp["errcode"] != "M_FORBIDDEN" || resp["user_id"] != nil {
		t.Errorf("registration with the bootstrap token after another answered %v; "+
			"want the token refused", resp)
	}
}

func readBootstrapToken(t *testing.T, r interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if regexp.MustCompile(`^[A-Z2-7]{26}$`).MatchString(line) {
				found <- line
				return
			}
		}
		close(found)
	}()
	select {
	case tok, ok := <-found:
		if !ok {
			t.Fatal("serve printed no bootstrap token")
		}
		return tok
	case <-time.After(20 * time.Second):
		t.Fatal("no bootstrap token within 20s")
	}
	return ""
}

func waitUp(t *testing.T, base string) {
	t.Helper()
	for range 100 {
		resp, err := http.Get(base + "/_matrix/client/versions")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 10s", base)
}

// postJSON sends body as JSON and decodes the JSON answer.
func postJSON(t *testing.T, url string, body any) map[string]any {
	t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(data))
	return decodeAnswer(t, "POST "+url, resp, err)
}

// getJSON sends a GET and decodes the JSON answer.
func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	return decodeAnswer(t, "GET "+url, resp, err)
}

// decodeAnswer decodes the JSON answer to the request what.
func decodeAnswer(t *testing.T, what string, resp *http.Response, err error) map[string]any {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: the answer is not JSON: %v", what, err)
	}
	return out
}

func TestTokenListUpdateDelete(t *testing.T) {
	data := t.TempDir()
	run := func(args ...string) (string, error) {
		out, err := command(append(args, "--data", data)...).CombinedOutput()
		return string(out), err
	}

	if _, err := run("token", "create", "--token", "friends", "--uses", "2"); err != nil {
		t.Fatal(err)
	}
	out, err := run("token", "list")
	if err != nil || !regexp.MustCompile(`friends\s+2\s+0\s+0\s+never`).MatchString(out) {
		t.Errorf("token list:\n%s%v", out, err)
	}

	out, err = run("token", "update", "friends", "--unlimited", "--expires", "1h")
	if err != nil || !regexp.MustCompile(`friends\s+unlimited\s+0\s+0\s+20`).MatchString(out) {
		t.Errorf("token update:\n%s%v", out, err)
	}
	out, err = run("token", "list", "--valid", "false", "--json")
	if err != nil || strings.Contains(out, "friends") {
		t.Errorf("invalid tokens list the valid one:\n%s%v", out, err)
	}

	if _, err := run("token", "delete", "friends"); err != nil {
		t.Fatal(err)
	}
	if out, err := run("token", "delete", "friends"); err == nil ||
		!strings.Contains(out, "M_NOT_FOUND") {
		t.Errorf("deleting a missing token: %s %v", out, err)
	}
}

func TestUserCreate(t *testing.T) {
	data := t.TempDir()
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("a sturdy password, 9 lanterns\n"), 0o600)

	out, err := command("user", "create", "Root2", "--admin", "--print-token",
		"--password-file", pwFile, "--data", data).Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(lines) != 2 || lines[0] != "@root2:localhost" ||
		!strings.HasPrefix(lines[1], "mxa_at_") {
		t.Fatalf("user create --print-token: %q, %v", out, err)
	}

	cmd := command("user", "create", "fromstdin", "--data", data)
	cmd.Stdin = strings.NewReader("another sturdy password, 4 otters\n")
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) !=
		"@fromstdin:localhost" {
		t.Errorf("password from stdin: %q, %v", out, err)
	}

	cmd = command("user", "create", "weakling", "--data", data)
	cmd.Stdin = strings.NewReader("password\n")
	if out, err := cmd.CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "M_WEAK_PASSWORD") {
		t.Errorf("a weak password was accepted: %s", out)
	}
	cmd = command("user", "create", "root2", "--data", data)
	cmd.Stdin = strings.NewReader("yet another sturdy password, 3 owls\n")
	if out, err := cmd.CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "M_USER_IN_USE") {
		t.Errorf("a taken name was accepted: %s", out)
	}
}
