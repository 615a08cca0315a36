package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/fallback.css
var styleSheet string

//go:embed static/done.js
var doneScript string

// pages are the parsed templates by name, each the layout with one page's content.
var pages = parsePages("token", "terms", "recaptcha", "password", "done", "error",
	"confirm", "confirmed")

// styleHash and scriptHash allow the inlined stylesheet and completion script in the
// Content-Security-Policy. Both are fixed, so a hash serves better than a nonce: no
// injected markup can ever carry it.
var (
	styleHash  = sourceHash(styleSheet)
	scriptHash = sourceHash(doneScript)
)

func parsePages(names ...string) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range names {
		out[name] = template.Must(template.ParseFS(templateFiles, "templates/layout.html",
			"templates/"+name+".html"))
	}
	return out
}

// sourceHash is the CSP source expression for an inline element with content s.
func sourceHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// view is what the templates show.
type view struct {
	Title      string
	ServerName string
	Style      template.CSS
	Script     template.JS
	// Error is the message of the alert above the form, or "".
	Error string
	// CSRF is the form's hidden token.
	CSRF string

	Policies []policyLink
	Captcha  *captchaView
	UserID   string
	// Action says what the password page confirms, such as "deactivate this account
	// for good"; "" when the operation has no sentence.
	Action string
	// Confirm is the session that a validation link opens.
	Confirm *confirmView
}

// captchaView is the captcha widget: the provider's script, the container class it
// renders into and the site key.
type captchaView struct {
	ScriptURL, Class, SiteKey string
}

// renderForm shows the stage's form with a fresh CSRF token, and message as an alert
// when it is not empty.
func (f *Fallback) renderForm(
	w http.ResponseWriter, r *http.Request, st *stageKind, sess *store.UIASession,
	status int, message string,
) {
	v := &view{Title: st.title, Error: message, CSRF: f.issueCSRF(w, r, st.Type, sess.ID)}
	if st.fill != nil {
		st.fill(f, r, sess, v)
	}

	policy := contentPolicy{}
	if v.Captcha != nil {
		policy.extra = f.captcha.Sources
	}
	f.render(w, status, st.page, v, policy)
}

// renderDone shows the page that tells the client the stage is complete.
func (f *Fallback) renderDone(w http.ResponseWriter) {
	v := &view{Title: "Step complete", Script: template.JS(doneScript)}
	f.render(w, http.StatusOK, "done", v, contentPolicy{script: true})
}

// renderError shows message on a page without a form.
func (f *Fallback) renderError(w http.ResponseWriter, status int, message string) {
	v := &view{Title: "This step cannot continue", Error: message}
	f.render(w, status, "error", v, contentPolicy{})
}

// renderBadForm answers a form body that could not be read.
func (f *Fallback) renderBadForm(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		f.renderError(w, http.StatusRequestEntityTooLarge, "The form sent was too large.")
		return
	}
	f.renderError(w, http.StatusBadRequest, "The form sent could not be read.")
}

// render writes the page with its Content-Security-Policy. The page is rendered in
// full before the status goes out, so a template failure is still a clean 500.
func (f *Fallback) render(
	w http.ResponseWriter, status int, page string, v *view, policy contentPolicy,
) {
	v.ServerName = f.opts.ServerName
	writePage(w, status, page, v, policy, f.opts.Log)
}

// writePage renders page with v, whose ServerName is set, and writes it with its
// Content-Security-Policy.
func writePage(
	w http.ResponseWriter, status int, page string, v *view, policy contentPolicy,
	log *slog.Logger,
) {
	v.Style = template.CSS(styleSheet)

	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		log.Error("render page", "page", page, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}

	h := w.Header()
	h.Set("Content-Security-Policy", policy.String())
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// setSecurityHeaders sets the headers every answer of the pages carries. There is
// deliberately no Cross-Origin-Opener-Policy: it would cut the page off from
// window.opener, which the completion contract needs.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
}

// contentPolicy is the Content-Security-Policy of one page: nothing by default, the
// inline stylesheet by its hash, form posts to the page's own origin only, never framed.
type contentPolicy struct {
	// script allows the inline completion script by its hash.
	script bool
	// extra are the captcha provider's sources, when the page shows the widget.
	extra captchaSources
	// formTargets are origins besides the page's own that its form may end up at: the
	// next_link that a confirmation redirects to, since browsers apply form-action to
	// the redirects that follow a form post.
	formTargets []string
}

// String returns the header value.
func (p contentPolicy) String() string {
	var scripts []string
	if p.script {
		scripts = append(scripts, scriptHash)
	}
	directives := []string{
		"default-src 'none'",
		sourceList("script-src", append(scripts, p.extra.Script...)),
		sourceList("style-src", append([]string{styleHash}, p.extra.Style...)),
		sourceList("frame-src", p.extra.Frame),
		sourceList("connect-src", p.extra.Connect),
		sourceList("form-action", append([]string{"'self'"}, p.formTargets...)),
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}
	var out []string
	for _, d := range directives {
		if d != "" {
			out = append(out, d)
		}
	}
	return strings.Join(out, "; ")
}

// sourceList is one directive, or "" when it has no sources (default-src applies).
func sourceList(directive string, sources []string) string {
	if len(sources) == 0 {
		return ""
	}
	return directive + " " + strings.Join(sources, " ")
}

// writeJSONError answers with the spec's JSON error body, for requests that are not
// for a page at all.
func writeJSONError(w http.ResponseWriter, e *mxerr.Error) {
	body, _ := json.Marshal(e) // an *mxerr.Error without challenge always encodes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// sentence turns a Matrix error message into a sentence for the page: a capital first
// letter and a full stop.
func sentence(msg string) string {
	r, size := utf8.DecodeRuneInString(msg)
	if size == 0 {
		return msg
	}
	msg = string(unicode.ToUpper(r)) + msg[size:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
