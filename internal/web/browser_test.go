package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/testserver"
)

// requireBrowserEnv makes a missing Chromium fail the browser test instead of skipping
// it, for CI runs that installed one.
const requireBrowserEnv = "MXACCOUNTS_TEST_REQUIRE_BROWSER"

// screenshotEnv names a PNG file the browser test writes the token page to, for a
// person to look at; unset, no screenshot is taken.
const screenshotEnv = "MXACCOUNTS_FALLBACK_SCREENSHOT"

// cspRecorder collects the page's Content-Security-Policy violations in
// window.cspViolations. It is injected through DevTools, which the policy does not
// govern, before any of the page's own scripts run.
const cspRecorder = `
window.cspViolations = window.cspViolations || [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});`

// authDoneRecorder plays a native client's web view, which defines window.onAuthDone
// in the page before it loads; the test reads how often the page called it.
const authDoneRecorder = `
window.authDoneCalls = 0;
window.onAuthDone = function () { window.authDoneCalls++; };`

// openerPage plays a web client: a button opens the fallback page named by the target
// query parameter in a popup, and window.received collects the messages that popup
// posts back.
const openerPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test client</title></head>
<body><button id="open" type="button">Open the fallback page</button>
<script>
window.received = [];
var popup = null;
window.addEventListener("message", function (e) {
  if (popup !== null && e.source === popup) {
    window.received.push(String(e.data));
  }
});
document.getElementById("open").addEventListener("click", function () {
  var target = new URLSearchParams(location.search).get("target");
  popup = window.open(target, "fallback", "popup,width=520,height=720");
});
</script></body></html>`

// TestBrowserRegistersThroughFallbackPages registers in a real Chromium through the
// token and terms fallback pages of a real server, and checks both ways a page tells
// the client it is done: postMessage to the opener for the token page, opened as a
// popup by a web client on another origin, and window.onAuthDone for the terms page,
// opened as a web view would. The client then finishes with only the session.
func TestBrowserRegistersThroughFallbackPages(t *testing.T) {
	chromium := findChromium(t)
	client := httptest.NewServer(http.HandlerFunc(serveTestClient))
	t.Cleanup(client.Close)
	srv := testserver.Start(t, testserver.WithConfig(func(c *config.Config) {
		c.Registration.Terms = []config.TermsPolicy{{ID: "privacy", Version: "1.0",
			Languages: map[string]config.TermsText{
				"en": {Name: "Privacy policy", URL: client.URL + "/privacy"},
			}}}
	}))
	regToken := srv.RegistrationToken(t)

	status, body := postJSON(t, srv.URL+"/_matrix/client/v3/register",
		`{"username": "alice", "password": "Tq7-lantern-quokka-89!"}`)
	session, _ := body["session"].(string)
	if status != http.StatusUnauthorized || session == "" {
		t.Fatalf("start registration: %d %v, want 401 with a session", status, body)
	}
	fallback := func(stage string) string {
		return srv.URL + "/_matrix/client/v3/auth/" + stage + "/fallback/web?session=" +
			url.QueryEscape(session)
	}

	browser := startBrowser(t, chromium)
	tokenInPopup(t, browser, client.URL+"/client?target="+
		url.QueryEscape(fallback(stageToken)), regToken)
	termsInWebView(t, browser, fallback(stageTerms), client.URL+"/privacy")

	status, body = postJSON(t, srv.URL+"/_matrix/client/v3/register",
		fmt.Sprintf(`{"auth": {"session": %q}}`, session))
	if status != http.StatusOK || body["user_id"] != "@alice:localhost" ||
		body["access_token"] == nil {
		t.Fatalf("finish registration: %d %v, want 200 for @alice:localhost", status, body)
	}
}

// tokenInPopup opens the token page from the client page, completes it in the popup
// and checks that the client received "authDone" from it.
func tokenInPopup(t *testing.T, browser context.Context, clientURL, regToken string) {
	t.Helper()

	popupID := chromedp.WaitNewTarget(browser, func(info *target.Info) bool {
		return strings.Contains(info.URL, "/fallback/web")
	})
	run(t, browser, "open the client and the popup",
		chromedp.Navigate(clientURL), chromedp.Click(chromedp.ID("open")))
	var id target.ID
	select {
	case id = <-popupID:
	case <-time.After(30 * time.Second):
		t.Fatal("the client's popup did not open within 30s")
	}
	popup := newTab(t, browser, chromedp.WithTargetID(id))

	run(t, popup, "load the token page", injectScript(cspRecorder, true),
		chromedp.WaitVisible(chromedp.ID("token")))
	// The stylesheet is inline and allowed by its hash; a wrong hash leaves it unapplied.
	if w := evaluate[string](t, popup, `getComputedStyle(document.querySelector("main"))`+
		`.maxWidth`); w != "480px" {
		t.Errorf("main's max-width is %q, want 480px from the page's stylesheet", w)
	}
	saveScreenshot(t, popup)

	run(t, popup, "submit the token", chromedp.SendKeys(chromedp.ID("token"), regToken),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("done")))
	if v := evaluate[[]string](t, popup, `window.cspViolations || []`); len(v) > 0 {
		t.Errorf("the done page broke its Content-Security-Policy: %q", v)
	}

	ctx, cancel := context.WithTimeout(browser, 20*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.received.length > 0`))
	if err != nil {
		t.Fatalf("the client received no message from the popup: %v", err)
	}
	if got := evaluate[[]string](t, browser, `window.received`); !slices.Equal(got,
		[]string{"authDone"}) {
		t.Errorf("the client received %q from the popup, want [authDone]", got)
	}
}

// termsInWebView opens the terms page in a tab that defines window.onAuthDone, accepts
// the terms and checks that the page called it once.
func termsInWebView(t *testing.T, browser context.Context, pageURL, policyURL string) {
	t.Helper()
	tab := newTab(t, browser)

	run(t, tab, "load the terms page", injectScript(cspRecorder+authDoneRecorder, false),
		chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS("ul.policies a")))
	href := evaluate[string](t, tab, `document.querySelector("ul.policies a").href`)
	name := evaluate[string](t, tab, `document.querySelector("ul.policies a").textContent`)
	if href != policyURL || !strings.HasPrefix(name, "Privacy policy") {
		t.Errorf("policy link %q to %q, want Privacy policy to %q", name, href, policyURL)
	}

	run(t, tab, "accept the terms", chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("done")))
	if n := evaluate[int](t, tab, `window.authDoneCalls`); n != 1 {
		t.Errorf("the done page called window.onAuthDone %d times, want 1", n)
	}
	if v := evaluate[[]string](t, tab, `window.cspViolations`); len(v) > 0 {
		t.Errorf("the pages broke their Content-Security-Policy: %q", v)
	}
}

// serveTestClient serves the client page and a stand-in for the policy document.
func serveTestClient(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.URL.Path == "/client" {
		io.WriteString(w, openerPage)
		return
	}
	io.WriteString(w, "<!DOCTYPE html><title>Privacy policy</title><p>Policy.")
}

// findChromium returns the path of a Chromium. Without one the test is skipped, loudly,
// unless requireBrowserEnv is set, which makes it fail.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome",
		"headless-shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}

	msg := "NO CHROMIUM FOUND: the browser test of the fallback pages did not run; " +
		"install Chromium with .ci/chromium.sh"
	if os.Getenv(requireBrowserEnv) != "" {
		t.Fatalf("%s (%s is set, so this fails)", msg, requireBrowserEnv)
	}
	fmt.Fprintf(os.Stderr, "\n!!! %s: %s\n\n", t.Name(), msg)
	t.Skip(msg)
	return ""
}

// startBrowser starts a headless Chromium for the test and returns its first tab.
func startBrowser(t *testing.T, path string) context.Context {
	t.Helper()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.WindowSize(1000, 800))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses root
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)

	// The first run starts the browser, and must not have a deadline: it would stop it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium at %s: %v", path, err)
	}
	return browser
}

// newTab returns a context for a new tab, or with chromedp.WithTargetID for an open
// one, attached to it. Attaching is the first run on the context, which must not have a
// deadline: the tab's event loop lives as long as the context of that run.
func newTab(
	t *testing.T, browser context.Context, opts ...chromedp.ContextOption,
) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("attach to a tab: %v", err)
	}
	return tab
}

// run runs the steps within a minute and fails the test with what they were for.
func run(
	t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void],
) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// evaluate returns the value of a JavaScript expression in the tab.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// injectScript runs source in every document the tab loads from now on, before the
// document's own scripts, and with now also in the current one.
func injectScript(source string, now bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument,
			cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: source, RunImmediately: &now})
		if err != nil {
			return fmt.Errorf("inject script: %w", err)
		}
		return nil
	})
}

// saveScreenshot writes the tab to the file named by screenshotEnv, if set.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	path := os.Getenv(screenshotEnv)
	if path == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot of the token page in %s", path)
}

// postJSON posts body and returns the status and the decoded JSON object answered.
func postJSON(t *testing.T, target, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(target, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: decode answer: %v", target, err)
	}
	return resp.StatusCode, out
}
