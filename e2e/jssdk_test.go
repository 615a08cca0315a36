package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// The matrix-js-sdk tests drive the server with a second, independent client: the
// official JavaScript SDK, pinned in jssdk/package.json, through the Node scenarios in
// jssdk/scenarios. Each test starts a fresh server per database and runs one scenario
// with `node jssdk/run.mjs SCENARIO`; the script checks every answer and exits non-zero,
// saying which step failed, when one is wrong.
//
// They need Node 20 or newer and the SDK installed with `npm ci --prefix e2e/jssdk`
// (.ci/jssdk.sh). Without them they skip, loudly, unless envRequireJSSDK is set.

// envRequireJSSDK names an environment variable that, when set to anything but the
// empty string, turns the skip of the matrix-js-sdk tests for want of Node or the SDK
// into a failure; .ci/run should set it after .ci/jssdk.sh.
const envRequireJSSDK = "MXACCOUNTS_TEST_REQUIRE_JSSDK"

// jssdkDir is the Node project of the scenarios, relative to this package.
const jssdkDir = "jssdk"

// jssdkTimeout bounds one run of a scenario script.
const jssdkTimeout = 60 * time.Second

// jssdkAccessLifetime is the access-token lifetime of the refresh scenario's server:
// short enough to wait for, long enough for a few requests on a loaded machine.
const jssdkAccessLifetime = 2 * time.Second

// TestJSSDKPassword changes the password through UIA with setPassword: a wrong password
// fails the stage and may be retried; the default logout_devices ends the other device
// and keeps the caller's; the old password is 403 M_FORBIDDEN and the new one logs in;
// logout_devices false keeps the other devices.
func TestJSSDKPassword(t *testing.T) {
	t.Parallel()
	runJSSDKScenario(t, "password")
}

// TestJSSDKDevices lists, gets and renames devices, deletes one and then several through
// UIA (once with the SDK's InteractiveAuth), and checks that unknown devices and another
// user's devices are 404 and are left alone.
func TestJSSDKDevices(t *testing.T) {
	t.Parallel()
	runJSSDKScenario(t, "devices")
}

// TestJSSDKRefresh lets the access token expire after jssdkAccessLifetime and the SDK
// refresh it with its tokenRefreshFunction; a refresh may be retried until its answer is
// used, a replaced refresh token is refused after that, and logout and logout/all end
// refresh tokens too.
func TestJSSDKRefresh(t *testing.T) {
	t.Parallel()
	runJSSDKScenario(t, "refresh", testserver.WithConfig(func(c *config.Config) {
		c.Tokens.AccessLifetime = jssdkAccessLifetime
	}))
}

// TestJSSDKDeactivate deactivates through the SDK's InteractiveAuth after a wrong
// password; then every token is dead, login is 403, and the name stays taken.
func TestJSSDKDeactivate(t *testing.T) {
	t.Parallel()
	runJSSDKScenario(t, "deactivate")
}

// runJSSDKScenario runs scenario against a fresh server started with opts, on each
// database, and fails t with the script's output when the script fails.
func runJSSDKScenario(t *testing.T, scenario string, opts ...testserver.Option) {
	t.Helper()

	node, script := requireJSSDK(t)

	onEachDatabase(t, func(t *testing.T, start startFunc) {
		srv := start(t, opts...)
		env := []string{
			"MX_BASE_URL=" + srv.URL,
			"MX_REG_TOKEN=" + srv.RegistrationToken(t),
			"MX_SERVER_NAME=" + srv.Config.ServerName,
			"MX_ACCESS_LIFETIME_MS=" +
				strconv.FormatInt(srv.Config.Tokens.AccessLifetime.Milliseconds(), 10),
		}

		stdout := runNode(t, node, script, scenario, env)

		checkJSSDKResult(t, scenario, stdout)
	})
}

// runNode runs `node script scenario` with env added to the environment and returns its
// stdout; it fails t with both outputs when the script fails or times out. Its stderr,
// the SDK's log of every request, is shown only then.
func runNode(t *testing.T, node, script, scenario string, env []string) []byte {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), jssdkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, scenario)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	started := time.Now()
	err := cmd.Run()
	took := time.Since(started).Round(time.Millisecond)

	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("matrix-js-sdk scenario %q did not finish within %v\nstdout:\n%s\n"+
			"stderr:\n%s", scenario, jssdkTimeout, &stdout, &stderr)
	}
	if err != nil {
		t.Fatalf("matrix-js-sdk scenario %q failed after %v: %v\nstdout:\n%s\nstderr:\n%s",
			scenario, took, err, &stdout, &stderr)
	}
	t.Logf("matrix-js-sdk scenario %q passed in %v", scenario, took)
	return stdout.Bytes()
}

// jssdkResult is the one JSON line a scenario prints on success.
type jssdkResult struct {
	Scenario string          `json:"scenario"`
	OK       bool            `json:"ok"`
	Steps    []string        `json:"steps"`
	Results  json.RawMessage `json:"results"`
}

// checkJSSDKResult fails t unless stdout is the single JSON line of a passed scenario,
// so that a script that exits 0 without running its steps does not pass.
func checkJSSDKResult(t *testing.T, scenario string, stdout []byte) {
	t.Helper()

	lines := strings.Split(strings.TrimSpace(string(stdout)), "\n")
	if len(lines) != 1 {
		t.Fatalf("scenario %q printed %d lines on stdout, want one JSON line:\n%s",
			scenario, len(lines), stdout)
	}

	var res jssdkResult
	if err := json.Unmarshal([]byte(lines[0]), &res); err != nil {
		t.Fatalf("scenario %q printed no JSON object: %v\n%s", scenario, err, stdout)
	}
	if res.Scenario != scenario || !res.OK || len(res.Steps) == 0 {
		t.Fatalf("scenario %q printed %s, want ok for %q with its steps", scenario,
			lines[0], scenario)
	}
	t.Logf("%d steps passed: %s", len(res.Steps), strings.Join(res.Steps, "; "))
	t.Logf("results: %s", res.Results)
}

// jssdkSetup is what requireJSSDK found, looked up once for all tests.
var jssdkSetup = sync.OnceValues(findJSSDK)

// requireJSSDK returns the path of node and the absolute path of run.mjs, or skips t
// with a message that says how to install them; it fails t instead when
// envRequireJSSDK is set.
func requireJSSDK(t *testing.T) (node, script string) {
	t.Helper()

	paths, err := jssdkSetup()
	if err == nil {
		return paths[0], paths[1]
	}
	msg := fmt.Sprintf("*** matrix-js-sdk end-to-end tests SKIPPED: %v; install the SDK "+
		"with `npm ci --prefix e2e/jssdk` (Node >= 20) or run .ci/jssdk.sh ***", err)
	if os.Getenv(envRequireJSSDK) != "" {
		t.Fatalf("%s is set, but %s", envRequireJSSDK, msg)
	}
	t.Skip(msg)
	return "", ""
}

// findJSSDK looks for node (version 20 or newer), the installed SDK and run.mjs.
func findJSSDK() ([2]string, error) {
	var none [2]string

	node, err := exec.LookPath("node")
	if err != nil {
		return none, fmt.Errorf("no node on the PATH (%v)", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return none, fmt.Errorf("%s --version: %v", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < 20 {
		return none, fmt.Errorf("%s is Node %s, and matrix-js-sdk needs 20 or newer",
			node, version)
	}

	dir, err := filepath.Abs(jssdkDir)
	if err != nil {
		return none, err
	}
	sdk := filepath.Join(dir, "node_modules", "matrix-js-sdk", "package.json")
	if _, err := os.Stat(sdk); err != nil {
		return none, fmt.Errorf("matrix-js-sdk is not installed (%v)", err)
	}
	script := filepath.Join(dir, "run.mjs")
	if _, err := os.Stat(script); err != nil {
		return none, fmt.Errorf("the scenario script is missing (%v)", err)
	}
	return [2]string{node, script}, nil
}
