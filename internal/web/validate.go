package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// Validator is what the confirmation pages need of 3PID validation sessions.
type Validator interface {
	// CheckLink returns the session a link opens without changing anything.
	CheckLink(ctx context.Context, medium threepid.Medium, sid, token string) (
		*threepid.LinkSession, error)
	// ConfirmLink validates the session a link opens.
	ConfirmLink(ctx context.Context, medium threepid.Medium, sid, token string) (
		*threepid.LinkSession, error)
}

// ValidationOptions configures the confirmation pages.
type ValidationOptions struct {
	// ServerName is shown on every page.
	ServerName string
	// PublicBaseURL is where users reach the server; its origin counts as the pages'
	// own for the Origin check of the confirmation.
	PublicBaseURL string
	// Log receives the causes of internal errors; nil discards them.
	Log *slog.Logger
}

// Validation serves the page that the link in a validation message opens:
// GET and POST on /_mxaccounts/validate/{medium}/confirm?sid=...&token=.... Mount it on
// a ServeMux pattern with the {medium} wildcard.
//
// GET only shows what the link is for and a button, so that the mail scanners and
// link previews that fetch every link in a message validate nothing. The button posts
// to the same URL, which validates the session and redirects to the session's
// next_link, or shows that the address is confirmed.
//
// The post needs no CSRF token, unlike the fallback forms: it acts on no cookie or
// other ambient authority of the browser, only on the token in the URL, which a
// forging site would have to know, and whoever knows it may validate anyway. Clients
// that post the link themselves therefore work too. The Origin check still refuses
// posts that a browser says come from another site.
type Validation struct {
	v      Validator
	opts   ValidationOptions
	origin string
}

// NewValidation returns the confirmation pages over v.
func NewValidation(v Validator, opts ValidationOptions) *Validation {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	origin, _ := publicOrigin(opts.PublicBaseURL)
	return &Validation{v: v, opts: opts, origin: origin}
}

// confirmView is what the confirmation pages show of a session.
type confirmView struct {
	Address string
	// Intro says what confirming does; Noun names the kind of address.
	Intro, Noun string
}

// ServeHTTP shows the confirmation page on GET and confirms on POST.
//
// TODO(i18n): the pages are English only, as the fallback pages are; the mail that
// links here is already in the request's language.
func (p *Validation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	medium := threepid.Medium(r.PathValue("medium"))
	if medium != threepid.MediumEmail && medium != threepid.MediumMSISDN {
		writeJSONError(w, mxerr.ErrUnrecognized.Msg("no validation page for %q", medium))
		return
	}
	q := r.URL.Query()
	sid, tok := q.Get("sid"), q.Get("token")

	switch r.Method {
	case http.MethodGet, http.MethodHead:
		ls, err := p.v.CheckLink(r.Context(), medium, sid, tok)
		switch {
		case err != nil:
			p.fail(w, r, err)
		case ls.Validated:
			p.confirmed(w, ls)
		default:
			p.confirmPage(w, ls)
		}
	case http.MethodPost:
		if !sameOrigin(r, p.origin) {
			p.errorPage(w, http.StatusForbidden, "This confirmation was sent from another "+
				"site, so it was refused.")
			return
		}
		ls, err := p.v.ConfirmLink(r.Context(), medium, sid, tok)
		switch {
		case err != nil:
			p.fail(w, r, err)
		case ls.NextLink != "":
			// The session checked at requestToken that next_link is http or https.
			http.Redirect(w, r, ls.NextLink, http.StatusSeeOther)
		default:
			p.confirmed(w, ls)
		}
	default:
		e := mxerr.ErrUnrecognized.Msg("method %s is not allowed here", r.Method)
		e.Status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeJSONError(w, e)
	}
}

// confirmPage shows the session and the button that confirms it.
func (p *Validation) confirmPage(w http.ResponseWriter, ls *threepid.LinkSession) {
	v := &view{Title: "Confirm your " + noun(ls.Medium), Confirm: describe(ls,
		p.opts.ServerName)}
	policy := contentPolicy{}
	if origin := normalizeOrigin(ls.NextLink); origin != "" {
		policy.formTargets = []string{origin}
	}
	p.render(w, http.StatusOK, "confirm", v, policy)
}

// confirmed shows that the session is validated.
func (p *Validation) confirmed(w http.ResponseWriter, ls *threepid.LinkSession) {
	v := &view{Title: "Confirmed", Confirm: describe(ls, p.opts.ServerName)}
	p.render(w, http.StatusOK, "confirmed", v, contentPolicy{})
}

// fail shows why a link cannot be used, or an internal error.
func (p *Validation) fail(w http.ResponseWriter, r *http.Request, err error) {
	var merr *mxerr.Error
	if !errors.As(err, &merr) {
		p.opts.Log.ErrorContext(r.Context(), "validation page failed", "path", r.URL.Path,
			"error", err)
		p.errorPage(w, http.StatusInternalServerError, "The server failed to confirm "+
			"this address. Try again later.")
		return
	}

	msg := "This link is incomplete or names nothing this server knows. Open the " +
		"newest message you received, or ask the app for a new one."
	switch merr.Code {
	case mxerr.CodeSessionExpired:
		msg = "This link has expired or was already used. Ask the app for a new message."
	case mxerr.CodeTokenIncorrect:
		msg = "A newer message was sent since this one; open the link in the newest " +
			"message."
	}
	p.errorPage(w, http.StatusBadRequest, msg)
}

// errorPage shows message on a page without a form.
func (p *Validation) errorPage(w http.ResponseWriter, status int, message string) {
	p.render(w, status, "error", &view{Title: "This link cannot be used", Error: message},
		contentPolicy{})
}

func (p *Validation) render(
	w http.ResponseWriter, status int, page string, v *view, policy contentPolicy,
) {
	v.ServerName = p.opts.ServerName
	writePage(w, status, page, v, policy, p.opts.Log)
}

// noun names the kind of address of a medium.
func noun(m threepid.Medium) string {
	if m == threepid.MediumMSISDN {
		return "phone number"
	}
	return "email address"
}

// describe says what confirming the session does.
func describe(ls *threepid.LinkSession, serverName string) *confirmView {
	n := noun(ls.Medium)
	intro := "Confirm this " + n + " to add it to your account on " + serverName + "."
	switch ls.Purpose {
	case uia.OpRegister:
		intro = "Confirm this " + n + " to create your account on " + serverName + "."
	case uia.OpPasswordReset:
		intro = "Confirm this " + n + " to reset the password of your account on " +
			serverName + "."
	}
	return &confirmView{Address: ls.Address, Intro: intro, Noun: n}
}
