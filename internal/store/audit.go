package store

import (
	"context"
	"encoding/json"

	"github.com/mxaccounts/mxaccounts/mxid"
)

// AuditEvent is one security event: who did what to whom, from where, and how it went.
type AuditEvent struct {
	// ID orders the events in the order they were stored; the store assigns it.
	ID     int64
	TimeMS int64
	// Action names the event, such as "login" or "admin.user.lock".
	Action string
	// Actor is the user ID that acted, a tool name such as "cli", or "" when unknown (a
	// failed login).
	Actor string
	// Target is the user the event concerns, or "".
	Target mxid.UserID
	// IP and UserAgent describe the client; "" for the command line.
	IP        string
	UserAgent string
	// Outcome is "success", "failure" or "denied".
	Outcome string
	// Details is a JSON object with what else the event records; nil is {}.
	Details json.RawMessage
}

// AuditFilter selects a page of audit events. Its zero value lists the newest events
// first, without limit.
type AuditFilter struct {
	// User keeps events whose actor or target is this user.
	User string
	// Action keeps events of this action.
	Action string
	// SinceMS and UntilMS keep events at or after, and before, these times; 0 is no
	// bound.
	SinceMS int64
	UntilMS int64
	// After continues a listing: with Forward, events whose ID is above it; otherwise
	// below it. 0 starts at the oldest (Forward) or newest event.
	After   int64
	Forward bool
	Limit   int64
}

// AuditLog stores audit events. It never changes an event: besides appending, it only
// deletes events past their retention.
type AuditLog interface {
	// AppendAuditEvent stores e and sets its ID.
	AppendAuditEvent(ctx context.Context, e *AuditEvent) error
	// AuditEvents returns the events f selects, in ID order (descending unless
	// f.Forward).
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// DeleteAuditEventsBefore removes the events older than beforeMS and returns how
	// many.
	DeleteAuditEventsBefore(ctx context.Context, beforeMS int64) (int64, error)
}
