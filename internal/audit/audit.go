// Package audit records security events (registrations, logins, password changes,
// locks, admin actions) in the append-only audit log of the store, and as structured
// log lines, so that an operator can tell who did what to which account, from where,
// and how it went.
//
// Handlers and services describe an event with Record; the client's address and
// User-Agent come from the request context (WithClient), so that a service deep in a
// call chain records them without knowing of HTTP.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// Outcome says how an audited action went.
type Outcome string

// The outcomes.
const (
	// Success: the action happened.
	Success Outcome = "success"
	// Failure: the action was tried and refused or failed, such as a wrong password.
	Failure Outcome = "failure"
	// Denied: the caller may not take the action at all, such as a non-admin calling
	// the admin API.
	Denied Outcome = "denied"
)

// The actions that clients take. Admin API actions are named "admin." followed by what
// they do (see the admin API routes).
const (
	ActionRegister       = "register"
	ActionLogin          = "login"
	ActionLogout         = "logout"
	ActionLogoutAll      = "logout_all"
	ActionPasswordChange = "password_change"
	ActionPasswordReset  = "password_reset"
	// The 3PID endpoints record these two; admins' 3PID changes are admin events.
	ActionThreePIDAdd    = "threepid_add"
	ActionThreePIDRemove = "threepid_remove"
	ActionDeviceDelete   = "device_delete"
	ActionDeactivate     = "deactivate"
	ActionLock           = "lock"
	ActionSuspend        = "suspend"
)

// The actors that are not users.
const (
	// ActorCLI is the mxaccounts command line, run by whoever can read its data.
	ActorCLI = "cli"
	// ActorSharedSecret is whoever knew the shared secret of shared-secret
	// registration.
	ActorSharedSecret = "shared_secret"
)

// Event describes one security event.
type Event struct {
	// Action names what happened: one of the Action constants, or an admin action.
	Action string
	// Actor is who acted: a user ID, ActorCLI or ActorSharedSecret; "" when unknown, as
	// for a failed login.
	Actor string
	// Target is the user the event concerns, or "".
	Target mxid.UserID
	// Outcome says how the action went.
	Outcome Outcome
	// Details holds whatever else is worth keeping, under snake_case keys, such as the
	// errcode of a failure. Never put a secret here.
	Details map[string]any
}

// Client is who sent the request behind an event.
type Client struct {
	IP        string
	UserAgent string
}

type clientKey struct{}

// WithClient returns ctx carrying c, for the events recorded under it.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the client that ctx carries; the zero Client when none (the
// command line).
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// writeTimeout bounds the write of one event, which goes on after the client has gone.
const writeTimeout = 5 * time.Second

// maxField caps the length of the client-supplied text fields kept in an event.
const maxField = 512

// Recorder writes events to the audit log and to the structured log. A nil Recorder
// records nothing, so that code may hold one unconditionally.
type Recorder struct {
	store store.AuditLog
	log   *slog.Logger
	now   func() time.Time
}

// NewRecorder returns a Recorder that appends to st and logs to log.
func NewRecorder(st store.AuditLog, log *slog.Logger) *Recorder {
	return &Recorder{store: st, log: log, now: time.Now}
}

// Record stores e with the time and the client of ctx, and logs it. A failure to store
// it is logged, not returned: the action it describes has happened already, and the
// log line still holds the event.
func (r *Recorder) Record(ctx context.Context, e Event) {
	if r == nil {
		return
	}

	c := ClientFrom(ctx)
	row := &store.AuditEvent{TimeMS: r.now().UnixMilli(), Action: e.Action,
		Actor: clip(e.Actor), Target: mxid.UserID(clip(string(e.Target))), IP: clip(c.IP),
		UserAgent: clip(c.UserAgent), Outcome: string(e.Outcome)}
	if len(e.Details) > 0 {
		details, err := json.Marshal(e.Details)
		if err != nil {
			r.log.ErrorContext(ctx, "could not encode audit details", "action", e.Action,
				"error", err)
		}
		row.Details = details
	}

	level := slog.LevelInfo
	if e.Outcome != Success {
		level = slog.LevelWarn
	}
	r.log.LogAttrs(ctx, level, "audit", slog.String("action", row.Action),
		slog.String("actor", row.Actor), slog.String("target", string(row.Target)),
		slog.String("ip", row.IP), slog.String("user_agent", row.UserAgent),
		slog.String("outcome", row.Outcome), slog.Any("details", e.Details))

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := r.store.AppendAuditEvent(wctx, row); err != nil {
		r.log.ErrorContext(ctx, "could not store audit event", "action", e.Action,
			"error", err)
	}
}

// clip makes s fit a text column: invalid UTF-8 replaced and NUL bytes dropped, both of
// which PostgreSQL refuses and a client may well send, then cut on a character boundary
// to at most maxField bytes.
func clip(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= maxField {
		return s
	}
	cut := maxField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
