// Package web serves the HTML pages of mxaccounts. These are the fallback pages of
// User-Interactive Authentication
// (https://spec.matrix.org/v1.13/client-server-api/#fallback): a client that cannot
// show a stage itself opens one in a browser, its user completes the stage there, and
// the page tells the client so; the client then retries its request with only the
// session. The pages need no JavaScript except for the captcha widget and the final
// notice to the client, load nothing from elsewhere but the captcha provider's script,
// and are protected against framing and cross-site form posts. The page that the link
// of a 3PID validation message opens is here too (validate.go).
package web

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"

	"github.com/mxaccounts/mxaccounts/internal/ratelimit"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// Options configures the fallback pages.
type Options struct {
	// ServerName is shown on every page.
	ServerName string
	// PublicBaseURL is where users reach the server. Its origin counts as the pages'
	// own for the Origin check of a form post, and an https URL makes the CSRF cookie
	// Secure.
	PublicBaseURL string
	// CaptchaVerifyURL is the captcha stage's verify URL; its host picks the widget:
	// hCaptcha, Cloudflare Turnstile or, for any other, Google reCAPTCHA.
	CaptchaVerifyURL string
	// FailureLimiter counts failed stages per client address, as the JSON endpoints
	// do, so that the pages cannot be used to guess tokens or passwords; nil is no
	// limit.
	FailureLimiter *ratelimit.Limiter
	// ClientAddr returns the address a request counts against; nil means the peer's.
	ClientAddr func(*http.Request) string
	// Log receives the causes of internal errors; nil discards them.
	Log *slog.Logger
}

// Fallback serves the fallback pages: GET and POST on
// /_matrix/client/{v3,r0}/auth/{authType}/fallback/web?session=ID. Mount it on a
// ServeMux pattern with the {authType} wildcard; it reads that path value.
type Fallback struct {
	engine  *uia.Engine
	opts    Options
	origin  string
	secure  bool
	captcha captchaWidget
}

// NewFallback returns the fallback pages for the stages of engine. They serve
// m.login.registration_token, m.login.terms, m.login.recaptcha and m.login.password,
// and answer any other auth type with 404 M_UNRECOGNIZED.
func NewFallback(engine *uia.Engine, opts Options) *Fallback {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.ClientAddr == nil {
		opts.ClientAddr = peerAddr
	}
	origin, secure := publicOrigin(opts.PublicBaseURL)
	return &Fallback{engine: engine, opts: opts, origin: origin, secure: secure,
		captcha: captchaFor(opts.CaptchaVerifyURL)}
}

// ServeHTTP shows the page of the path's stage on GET and completes the stage on POST.
func (f *Fallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	st, ok := stageKinds[r.PathValue("authType")]
	if !ok || !f.offers(st) {
		writeJSONError(w, mxerr.ErrUnrecognized.Msg("no fallback page for auth type %q",
			r.PathValue("authType")))
		return
	}

	sessionID := r.URL.Query().Get("session")
	if sessionID == "" {
		f.renderError(w, http.StatusBadRequest, "This link has no session parameter.")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f.show(w, r, st, sessionID)
	case http.MethodPost:
		f.submit(w, r, st, sessionID)
	default:
		e := mxerr.ErrUnrecognized.Msg("method %s is not allowed here", r.Method)
		e.Status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeJSONError(w, e)
	}
}

// offers reports whether the server can run the stage; a captcha needs a site key.
func (f *Fallback) offers(st *stageKind) bool {
	return st.Type != uia.TypeRecaptcha || f.siteKey() != ""
}

// show answers GET: the stage's form, or the done page for a stage already complete
// (after a reload, say), so that the client still hears of it.
func (f *Fallback) show(w http.ResponseWriter, r *http.Request, st *stageKind, id string) {
	sess, ok := f.session(w, r, st, id)
	if !ok {
		return
	}
	if slices.Contains(sess.Completed, st.Type) {
		f.renderDone(w)
		return
	}
	f.renderForm(w, r, st, sess, http.StatusOK, "")
}

// submit answers POST: it checks where the form came from, builds the auth dict the
// client would have sent, and completes the stage with it.
func (f *Fallback) submit(w http.ResponseWriter, r *http.Request, st *stageKind, id string) {
	if !f.sameOrigin(r) {
		f.renderError(w, http.StatusForbidden, "This form was sent from another site, "+
			"so it was refused.")
		return
	}
	sess, ok := f.session(w, r, st, id)
	if !ok {
		return
	}

	if err := r.ParseForm(); err != nil {
		f.renderBadForm(w, err)
		return
	}
	if !f.validCSRF(r, st.Type, sess.ID) {
		f.renderForm(w, r, st, sess, http.StatusForbidden, "This form has expired or "+
			"did not come from this page. Send it again.")
		return
	}

	// An attempt takes from the client's bucket before it is tried, so that racing ones
	// cannot all pass, and gets it back unless the stage failed.
	ok, wait, refund := f.opts.FailureLimiter.Take(f.opts.ClientAddr(r))
	if !ok {
		secs := max(int(wait.Seconds()+0.999), 1)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		f.renderForm(w, r, st, sess, http.StatusTooManyRequests, "Too many failed "+
			"attempts. Wait "+strconv.Itoa(secs)+" seconds, then try again.")
		return
	}

	failed := false
	defer func() {
		if !failed {
			refund()
		}
	}()

	auth, problem := st.auth(r, sess)
	if problem != "" {
		f.renderForm(w, r, st, sess, http.StatusBadRequest, problem)
		return
	}
	err := f.engine.CompleteStage(r.Context(), sess.ID, st.Type, auth)
	failed = f.finish(w, r, st, sess, err)
}

// finish answers with the outcome of a stage: the done page, the form again with the
// reason the stage failed (401), or an error page. It reports whether the stage failed,
// which counts against the client.
func (f *Fallback) finish(
	w http.ResponseWriter, r *http.Request, st *stageKind, sess *store.UIASession, err error,
) bool {
	var merr *mxerr.Error
	switch {
	case err == nil:
		f.renderDone(w)
	case errors.As(err, &merr) && merr.UIA != nil:
		// Only a failed stage carries the challenge.
		f.renderForm(w, r, st, sess, http.StatusUnauthorized, sentence(merr.Message))
		return true
	case errors.As(err, &merr):
		// The session went away (expired or used) between the two reads.
		f.renderError(w, http.StatusBadRequest, sessionGone)
	default:
		f.internalError(w, r, err)
	}
	return false
}

// sessionGone explains an unknown, expired or used session.
const sessionGone = "This link is no longer valid: its session is unknown, has " +
	"expired or was already used."

// session returns the UIA session for the stage's page, or answers with an error page
// and false.
func (f *Fallback) session(
	w http.ResponseWriter, r *http.Request, st *stageKind, id string,
) (*store.UIASession, bool) {
	sess, err := f.engine.Session(r.Context(), id)
	var merr *mxerr.Error
	switch {
	case errors.As(err, &merr):
		f.renderError(w, http.StatusBadRequest, sessionGone)
		return nil, false
	case err != nil:
		f.internalError(w, r, err)
		return nil, false
	case st.signedIn && sess.UserID == "":
		f.renderError(w, http.StatusForbidden, "This step belongs to a request made "+
			"without signing in, so it cannot be confirmed on this page. If you did not "+
			"start it yourself, someone may be trying to use your password.")
		return nil, false
	}
	return sess, true
}

// internalError logs the cause and shows a page that says nothing of it.
func (f *Fallback) internalError(w http.ResponseWriter, r *http.Request, err error) {
	f.opts.Log.ErrorContext(r.Context(), "fallback page failed", "path", r.URL.Path,
		"error", err)
	f.renderError(w, http.StatusInternalServerError, "The server failed to handle this "+
		"step. Try again later.")
}

// peerAddr is the address of the connection's peer, without the port.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
