package mxerr

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error is a Matrix error answer: the HTTP status, the errcode and a message for humans,
// with the optional keys some codes carry. Two Errors match under errors.Is when their
// errcodes are equal, so a caller tests the kind of failure with
// errors.Is(err, mxerr.ErrForbidden) whatever the message says.
type Error struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Code is the errcode.
	Code Code
	// Message is the "error" text, safe to show to the client.
	Message string
	// SoftLogout marks an M_UNKNOWN_TOKEN or M_USER_LOCKED answer after which the client
	// may log in again to the same device.
	SoftLogout bool
	// RetryAfterMS is how long a client should wait after M_LIMIT_EXCEEDED.
	RetryAfterMS int64
	// UIA is the authentication challenge sent with a failed UIA stage, or nil.
	UIA *Challenge
}

// New returns an Error with the given status, errcode and message.
func New(status int, code Code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Error returns "M_CODE (status): message".
func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Message)
}

// Is reports whether target is an *Error with the same errcode.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Msg returns a copy of e whose message is formatted from format and args.
func (e *Error) Msg(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// WithUIA returns a copy of e that carries the challenge ch, as a failed UIA stage does;
// its status becomes 401.
func (e *Error) WithUIA(ch *Challenge) *Error {
	c := *e
	c.Status = http.StatusUnauthorized
	c.UIA = ch
	return &c
}

// MarshalJSON writes the spec's error body: errcode and error always, soft_logout and
// retry_after_ms when set, and the challenge's keys when the error carries one.
func (e *Error) MarshalJSON() ([]byte, error) {
	body := map[string]any{"errcode": e.Code, "error": e.Message}
	if e.SoftLogout {
		body["soft_logout"] = true
	}
	if e.RetryAfterMS > 0 {
		body["retry_after_ms"] = e.RetryAfterMS
	}
	if e.UIA != nil {
		e.UIA.addTo(body)
	}
	return json.Marshal(body)
}

// UnmarshalJSON reads an error body; the caller sets Status from the HTTP answer.
func (e *Error) UnmarshalJSON(data []byte) error {
	var body struct {
		Code         Code   `json:"errcode"`
		Message      string `json:"error"`
		SoftLogout   bool   `json:"soft_logout"`
		RetryAfterMS int64  `json:"retry_after_ms"`
		Flows        []Flow `json:"flows"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return fmt.Errorf("decode Matrix error body: %w", err)
	}

	e.Code, e.Message = body.Code, body.Message
	e.SoftLogout, e.RetryAfterMS = body.SoftLogout, body.RetryAfterMS
	if body.Flows != nil {
		var ch Challenge
		if err := json.Unmarshal(data, &ch); err != nil {
			return fmt.Errorf("decode UIA challenge: %w", err)
		}
		e.UIA = &ch
	}
	return nil
}

// The errors of the account surface with their usual status. Use Msg to give one a
// message that says what was wrong with the request.
var (
	ErrForbidden    = New(http.StatusForbidden, CodeForbidden, "forbidden")
	ErrUnknownToken = New(http.StatusUnauthorized, CodeUnknownToken, "unknown access token")
	ErrMissingToken = New(http.StatusUnauthorized, CodeMissingToken, "missing access token")
	ErrUserLocked   = &Error{Status: http.StatusUnauthorized, Code: CodeUserLocked,
		Message: "this account has been locked", SoftLogout: true}
	ErrUserSuspended   = New(http.StatusForbidden, CodeUserSuspended, "this account is suspended")
	ErrBadJSON         = New(http.StatusBadRequest, CodeBadJSON, "malformed JSON body")
	ErrNotJSON         = New(http.StatusBadRequest, CodeNotJSON, "the body is not valid JSON")
	ErrNotFound        = New(http.StatusNotFound, CodeNotFound, "not found")
	ErrLimitExceeded   = New(http.StatusTooManyRequests, CodeLimitExceeded, "too many requests")
	ErrUnrecognized    = New(http.StatusNotFound, CodeUnrecognized, "unrecognized request")
	ErrUnknown         = New(http.StatusBadRequest, CodeUnknown, "unknown error")
	ErrUserDeactivated = New(http.StatusForbidden, CodeUserDeactivated,
		"this account has been deactivated")
	ErrUserInUse       = New(http.StatusBadRequest, CodeUserInUse, "this user ID is taken")
	ErrInvalidUsername = New(http.StatusBadRequest, CodeInvalidUsername, "invalid username")
	ErrExclusive       = New(http.StatusBadRequest, CodeExclusive,
		"this user ID is reserved by an application service")
	ErrMissingParam = New(http.StatusBadRequest, CodeMissingParam, "a parameter is missing")
	ErrInvalidParam = New(http.StatusBadRequest, CodeInvalidParam, "a parameter is invalid")
	ErrTooLarge     = New(http.StatusRequestEntityTooLarge, CodeTooLarge,
		"the request body is too large")
	ErrWeakPassword   = New(http.StatusBadRequest, CodeWeakPassword, "the password is too weak")
	ErrGuestForbidden = New(http.StatusForbidden, CodeGuestAccessForbidden,
		"guests may not use this endpoint")
	ErrUnknownDevice = New(http.StatusBadRequest, CodeUnknownDevice, "unknown device")
	ErrInternal      = New(http.StatusInternalServerError, CodeUnknown,
		"internal server error")

	ErrThreepidInUse = New(http.StatusBadRequest, CodeThreepidInUse,
		"this address is already in use")
	ErrThreepidNotFound = New(http.StatusBadRequest, CodeThreepidNotFound,
		"no account has this address")
	ErrThreepidAuthFailed = New(http.StatusBadRequest, CodeThreepidAuthFailed,
		"the address could not be verified")
	ErrThreepidDenied = New(http.StatusForbidden, CodeThreepidDenied,
		"this address may not be used on this server")
	ErrThreepidMediumNotSupported = New(http.StatusBadRequest, CodeThreepidMediumNotSupp,
		"this kind of address is not supported")
	ErrSessionExpired = New(http.StatusBadRequest, CodeSessionExpired,
		"the validation session has expired")
	ErrTokenIncorrect = New(http.StatusBadRequest, CodeTokenIncorrect,
		"the validation token is incorrect")
)
