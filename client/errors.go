package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// requestError is a Matrix error answer with the request it answered. It unwraps to the
// *mxerr.Error, so errors.Is and errors.As see the errcode, status and challenge.
type requestError struct {
	method string
	path   string
	err    *mxerr.Error
}

// Error says which request failed and how, naming the UIA session of a challenge.
func (e *requestError) Error() string {
	if e.err.Code == "" && e.err.UIA != nil {
		return fmt.Sprintf("%s %s: user-interactive authentication required (HTTP %d, "+
			"session %q)", e.method, e.path, e.err.Status, e.err.UIA.Session)
	}
	return fmt.Sprintf("%s %s: %s (HTTP %d): %s", e.method, e.path, e.err.Code, e.err.Status,
		e.err.Message)
}

// Unwrap returns the Matrix error.
func (e *requestError) Unwrap() error { return e.err }

// decodeError turns a non-2xx answer into an *mxerr.Error with its HTTP status. A 401
// UIA challenge has UIA set, and no Code unless a stage failed. A body that is not a
// Matrix error becomes M_UNKNOWN with a message that says what came back.
func decodeError(a *answer) *mxerr.Error {
	var e mxerr.Error
	if err := json.Unmarshal(a.body, &e); err != nil || (e.Code == "" && e.UIA == nil) {
		return &mxerr.Error{Status: a.status, Code: mxerr.CodeUnknown,
			Message: fmt.Sprintf("the server did not answer with a Matrix error: HTTP %d %s, %s",
				a.status, http.StatusText(a.status), describeBody(a))}
	}

	e.Status = a.status
	if e.Code == "" && e.Message == "" {
		e.Message = "user-interactive authentication required"
	}
	return &e
}

// describeBody says what kind of body an answer had, with its first bytes.
func describeBody(a *answer) string {
	if len(a.body) == 0 {
		return "empty body"
	}
	ctype := a.header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ctype); err == nil {
		ctype = mt
	}
	if ctype == "" {
		ctype = "no Content-Type"
	}

	const maxShown = 120
	shown := strings.ToValidUTF8(string(a.body), "\uFFFD")
	if len(shown) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(shown[cut]) {
			cut--
		}
		shown = shown[:cut] + "…"
	}
	return fmt.Sprintf("%s body %q", ctype, shown)
}

// isSoftLogout reports whether e says the access token is gone but the session may be
// resumed, as an expired token is.
func isSoftLogout(e *mxerr.Error) bool {
	return e.Status == http.StatusUnauthorized && e.Code == mxerr.CodeUnknownToken &&
		e.SoftLogout
}

// UIAChallenge returns the User-Interactive Authentication challenge that err carries:
// the flows, completed stages and session of a 401 answer from an endpoint protected by
// UIA. It returns false when err is not such an answer.
//
// The client returns every challenge as an *mxerr.Error whose UIA field is set. Its Code
// is empty when the server only asks for (more) authentication, and holds the errcode,
// such as M_FORBIDDEN, when the last stage failed.
func UIAChallenge(err error) (*mxerr.Challenge, bool) {
	var e *mxerr.Error
	if errors.As(err, &e) && e.UIA != nil {
		return e.UIA, true
	}
	return nil, false
}
