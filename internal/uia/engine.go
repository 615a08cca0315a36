// Package uia implements User-Interactive Authentication
// (https://spec.matrix.org/v1.13/client-server-api/#user-interactive-authentication-api):
// flows of stages per operation, sessions kept in the database so that any instance
// can serve the next step, and the rules that keep a session bound to one operation,
// one request and one user.
package uia

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// Operation names what a UIA session authorises.
type Operation string

// The operations protected by UIA.
const (
	OpRegister     Operation = "register"
	OpPassword     Operation = "password"
	OpDeactivate   Operation = "deactivate"
	OpAddThreepid  Operation = "3pid_add"
	OpDeleteDevice Operation = "device_delete"
	OpLoginToken   Operation = "login_token"

	// OpPasswordReset is a password change without an access token: the user proves
	// who they are with a stage such as a validated email address.
	OpPasswordReset Operation = "password_reset"
)

// Stage completes one auth type.
type Stage interface {
	// Type is the auth type, such as "m.login.dummy".
	Type() string
	// Params returns what the challenge's params carry for this stage, or nil.
	Params() any
	// Complete checks the attempt and returns nil when the stage is done. A *mxerr.Error
	// fails the stage: the client gets it with the challenge and may try again. Stages
	// run inside the transaction that records their completion.
	Complete(ctx context.Context, a *Attempt) error
}

// Preparer is a Stage with expensive checks (a password hash) that must not run inside
// the stage's transaction, where they would hold the database's write lock. Prepare
// runs first, outside any transaction, and may keep what it found in the Attempt.
type Preparer interface {
	Prepare(ctx context.Context, a *Attempt) error
}

// Attempt is one try at a stage.
type Attempt struct {
	// Session is the session being authenticated; a stage may set its UserID and
	// RegistrationToken.
	Session *store.UIASession
	// Auth is the client's auth dict.
	Auth map[string]json.RawMessage
	// Requester is the owner of the request's access token, or "" without one.
	Requester mxid.UserID
	// Store runs inside the stage's transaction.
	Store store.Store
	// Now is the time of the request.
	Now time.Time
	// Proven is the user a stage proved to be acting, set by Prepare for Complete.
	Proven mxid.UserID
}

// Flows returns the flows on offer for an operation.
type Flows func(op Operation) [][]string

// Engine runs UIA for every operation.
type Engine struct {
	store    store.Store
	stages   map[string]Stage
	flows    Flows
	lifetime time.Duration
	now      func() time.Time
}

// New returns an engine over st that offers flows and knows stages; sessions last
// lifetime from their first request.
func New(st store.Store, flows Flows, lifetime time.Duration, stages ...Stage) *Engine {
	e := &Engine{store: st, stages: map[string]Stage{}, flows: flows, lifetime: lifetime,
		now: time.Now}
	e.AddStages(stages...)
	return e
}

// AddStages makes more stages known, for stages built after the engine (those of the
// account service, which itself needs the engine). Call it before serving.
func (e *Engine) AddStages(stages ...Stage) {
	for _, s := range stages {
		e.stages[s.Type()] = s
	}
}

// Request is a request to an endpoint protected by UIA.
type Request struct {
	Operation Operation
	Method    string
	Path      string
	// Body is the JSON object the client sent, auth included.
	Body map[string]json.RawMessage
	// Requester is the owner of the access token, or "" for a request without one.
	Requester mxid.UserID
	// Secret names a body key (such as "password") that must carry over between
	// requests but is never stored: the session keeps its hash, made by Hash and checked
	// by Verify.
	Secret string
	Hash   func(secret string) string
	Verify func(hash, secret string) bool
}

// Result is a completed authentication.
type Result struct {
	// Session is the completed session; pass it to Consume in the operation's
	// transaction.
	Session *store.UIASession
	// Params is the request body to act on: the first request's parameters with later
	// additions, without auth and without the secret.
	Params map[string]json.RawMessage
	// SecretHash is the hash of the secret, from this request or the first one.
	SecretHash string
}

// Authenticate applies the request's auth dict. It returns a Result when a flow is
// complete; a *mxerr.Challenge when stages remain; an *mxerr.Error carrying the
// challenge when a stage failed; and a plain *mxerr.Error for a request that does not
// fit its session.
func (e *Engine) Authenticate(ctx context.Context, req *Request) (*Result, error) {
	auth, err := decodeAuth(req.Body["auth"])
	if err != nil {
		return nil, err
	}
	params, secret, err := splitBody(req)
	if err != nil {
		return nil, err
	}

	sess, err := e.session(ctx, req, auth, params, secret)
	if err != nil {
		return nil, err
	}
	if stageType, ok := stringField(auth, "type"); ok {
		if err := e.applyStage(ctx, req, sess, stageType, auth); err != nil {
			return nil, err
		}
	}

	if !e.flowComplete(sess) {
		return nil, e.challenge(sess)
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(sess.Params, &merged); err != nil {
		return nil, fmt.Errorf("decode parameters of UIA session %s: %w", sess.ID, err)
	}
	return &Result{Session: sess, Params: merged, SecretHash: sess.PasswordHash}, nil
}

// CompleteStage applies one stage to an existing session out of band, as the fallback
// pages do: the client then retries its request with only {"session": ...}. It returns
// an *mxerr.Error for an unknown, expired or used session and for a failed stage.
func (e *Engine) CompleteStage(
	ctx context.Context, sessionID, stageType string, auth map[string]json.RawMessage,
) error {
	sess, err := e.store.UIASession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.ExpiresMS <= e.nowMS()) {
		return mxerr.ErrUnknown.Msg("unknown or expired UIA session")
	}
	if err != nil {
		return err
	}
	if sess.Consumed {
		return mxerr.ErrForbidden.Msg("this UIA session has already been used")
	}
	req := &Request{Operation: Operation(sess.Operation), Method: sess.Method, Path: sess.Path}
	return e.applyStage(ctx, req, sess, stageType, auth)
}

// Session returns the session with this ID for the fallback pages, or an *mxerr.Error
// when it is unknown, expired or used.
func (e *Engine) Session(ctx context.Context, sessionID string) (*store.UIASession, error) {
	sess, err := e.store.UIASession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil &&
		(sess.ExpiresMS <= e.nowMS() || sess.Consumed)) {
		return nil, mxerr.ErrUnknown.Msg("unknown, expired or used UIA session")
	}
	return sess, err
}

// StageParams returns the challenge params of a stage type, or nil.
func (e *Engine) StageParams(stageType string) any {
	if s, ok := e.stages[stageType]; ok {
		return s.Params()
	}
	return nil
}

// Consume marks the session used, inside the transaction tx that performs the
// operation, so that a session never authorises twice.
func (e *Engine) Consume(ctx context.Context, tx store.Store, res *Result) error {
	err := tx.ConsumeUIASession(ctx, res.Session.ID)
	if errors.Is(err, store.ErrConflict) {
		return mxerr.ErrForbidden.Msg("this UIA session has already been used")
	}
	return err
}

// Challenge returns the challenge for a new request of op without a session, for
// endpoints that must answer 401 before they can start one.
func (e *Engine) Challenge(op Operation) *mxerr.Challenge {
	return e.challenge(&store.UIASession{Operation: string(op)})
}

// session finds the request's session, or starts one, and checks that the request
// still fits it.
func (e *Engine) session(
	ctx context.Context, req *Request, auth map[string]json.RawMessage,
	params map[string]json.RawMessage, secret *string,
) (*store.UIASession, error) {
	id, hasID := stringField(auth, "session")
	if !hasID {
		return e.startSession(ctx, req, params, secret)
	}

	sess, err := e.store.UIASession(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.ExpiresMS <= e.nowMS()) {
		// The spec names no answer; M_INVALID_PARAM is one it allows on every endpoint
		// with a body (Synapse answers M_UNKNOWN).
		return nil, mxerr.ErrInvalidParam.Msg("unknown or expired UIA session %q", id)
	}
	if err != nil {
		return nil, err
	}

	// A session that is not this request's is a bad auth.session: 400 M_INVALID_PARAM,
	// which the spec allows on every endpoint with a body (Synapse answers 403, which
	// these endpoints do not document).
	if sess.Operation != string(req.Operation) || sess.Method != req.Method ||
		sess.Path != req.Path {
		return nil, mxerr.ErrInvalidParam.Msg("auth.session belongs to another " +
			"operation; the requested operation has changed during the UIA session, " +
			"so start a new session")
	}
	if sess.UserID != "" && req.Requester != "" && sess.UserID != req.Requester {
		return nil, mxerr.ErrInvalidParam.Msg("auth.session belongs to another user")
	}
	if sess.Consumed {
		// A replay of a finished request: the spec's answer to a completed stage sent
		// again is 401 listing it as completed, never a new error.
		return nil, mxerr.ErrForbidden.Msg("this UIA session has already been used; " +
			"start a new one").WithUIA(e.challenge(sess))
	}
	if err := e.mergeParams(ctx, req, sess, params, secret); err != nil {
		return nil, err
	}
	return sess, nil
}

func (e *Engine) startSession(
	ctx context.Context, req *Request, params map[string]json.RawMessage, secret *string,
) (*store.UIASession, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode UIA parameters: %w", err)
	}
	now := e.nowMS()
	sess := &store.UIASession{
		ID:        token.SessionID(),
		Operation: string(req.Operation),
		UserID:    req.Requester,
		Method:    req.Method,
		Path:      req.Path,
		Params:    raw,
		CreatedMS: now,
		ExpiresMS: now + e.lifetime.Milliseconds(),
	}
	if secret != nil {
		sess.PasswordHash = req.Hash(*secret)
	}
	if err := e.store.CreateUIASession(ctx, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// mergeParams refuses parameters that differ from the session's and keeps new ones.
func (e *Engine) mergeParams(
	ctx context.Context, req *Request, sess *store.UIASession,
	params map[string]json.RawMessage, secret *string,
) error {
	var stored map[string]json.RawMessage
	if err := json.Unmarshal(sess.Params, &stored); err != nil {
		return fmt.Errorf("decode parameters of UIA session %s: %w", sess.ID, err)
	}

	changed := false
	for k, v := range params {
		old, ok := stored[k]
		if !ok {
			stored[k] = v
			changed = true
			continue
		}
		if !jsonEqual(old, v) {
			return mxerr.ErrInvalidParam.Msg("%q differs from the first request of this "+
				"UIA session; send the same value or start a new session", k)
		}
	}

	if secret != nil {
		switch {
		case sess.PasswordHash == "":
			sess.PasswordHash = req.Hash(*secret)
			changed = true
		case !req.Verify(sess.PasswordHash, *secret):
			return mxerr.ErrInvalidParam.Msg("%q differs from the first request of this "+
				"UIA session; send the same value or start a new session", req.Secret)
		}
	}
	if !changed {
		return nil
	}

	raw, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("encode UIA parameters: %w", err)
	}
	sess.Params = raw
	return e.store.UpdateUIASession(ctx, sess)
}

// applyStage runs one stage and records its completion in one transaction.
func (e *Engine) applyStage(
	ctx context.Context, req *Request, sess *store.UIASession, stageType string,
	auth map[string]json.RawMessage,
) error {
	if slices.Contains(sess.Completed, stageType) {
		return nil // completed stages are not redone, and replaying one is no error
	}

	stage, ok := e.stages[stageType]
	if !ok || !e.isNextStage(sess, stageType) {
		return mxerr.ErrForbidden.Msg("%q is not the next stage of any flow on offer",
			stageType).WithUIA(e.challenge(sess))
	}

	attempt := &Attempt{Session: sess, Auth: auth, Requester: req.Requester, Store: e.store,
		Now: e.now()}
	var err error
	if p, ok := stage.(Preparer); ok {
		err = p.Prepare(ctx, attempt)
	}
	if err == nil {
		err = e.store.Transact(ctx, func(tx store.Store) error {
			attempt.Store = tx
			if err := stage.Complete(ctx, attempt); err != nil {
				return err
			}
			sess.Completed = append(sess.Completed, stageType)
			return tx.UpdateUIASession(ctx, sess)
		})
	}

	var merr *mxerr.Error
	switch {
	case errors.Is(err, mxerr.ErrLimitExceeded):
		// Not a failed stage: the stage was not tried, and the spec's answer to a client
		// over a limit is 429, whatever the endpoint.
		return err
	case errors.As(err, &merr):
		return merr.WithUIA(e.challenge(sess))
	case errors.Is(err, store.ErrConflict):
		return mxerr.ErrForbidden.Msg("this UIA session has already been used")
	}
	return err
}

// isNextStage reports whether some flow continues the completed stages with stageType.
func (e *Engine) isNextStage(sess *store.UIASession, stageType string) bool {
	for _, flow := range e.flows(Operation(sess.Operation)) {
		n := len(sess.Completed)
		if len(flow) > n && slices.Equal(flow[:n], sess.Completed) && flow[n] == stageType {
			return true
		}
	}
	return false
}

func (e *Engine) flowComplete(sess *store.UIASession) bool {
	for _, flow := range e.flows(Operation(sess.Operation)) {
		if slices.Equal(flow, sess.Completed) {
			return true
		}
	}
	return false
}

func (e *Engine) challenge(sess *store.UIASession) *mxerr.Challenge {
	ch := &mxerr.Challenge{Session: sess.ID, Completed: sess.Completed,
		Params: map[string]any{}}
	for _, flow := range e.flows(Operation(sess.Operation)) {
		ch.Flows = append(ch.Flows, mxerr.Flow{Stages: flow})
		for _, t := range flow {
			if s, ok := e.stages[t]; ok && s.Params() != nil {
				ch.Params[t] = s.Params()
			}
		}
	}
	return ch
}

func (e *Engine) nowMS() int64 { return e.now().UnixMilli() }

// decodeAuth reads the auth dict; null or absent means no auth.
func decodeAuth(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var auth map[string]json.RawMessage
	if err := json.Unmarshal(raw, &auth); err != nil {
		return nil, mxerr.ErrBadJSON.Msg("auth must be an object")
	}
	for _, k := range []string{"type", "session"} {
		if v, ok := auth[k]; ok && bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(auth, k) // null is absent, as for the other optional fields
		} else if ok {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, mxerr.ErrBadJSON.Msg("auth.%s must be a string", k)
			}
		}
	}
	// No session has the empty ID; a client that sends one has none.
	if s, ok := stringField(auth, "session"); ok && s == "" {
		delete(auth, "session")
	}
	return auth, nil
}

// splitBody returns the body without auth and the secret, and the secret if present.
func splitBody(req *Request) (map[string]json.RawMessage, *string, error) {
	params := make(map[string]json.RawMessage, len(req.Body))
	var secret *string
	for k, v := range req.Body {
		switch {
		case k == "auth":
		case k == req.Secret && req.Secret != "":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, nil, mxerr.ErrBadJSON.Msg("%s must be a string", k)
			}
			secret = &s
		default:
			params[k] = v
		}
	}
	return params, secret, nil
}

// stringField returns m[key] when it is a JSON string.
func stringField(m map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := m[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonEqual compares two JSON values by meaning, not by spelling.
func jsonEqual(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	ra, _ := json.Marshal(va)
	rb, _ := json.Marshal(vb)
	return bytes.Equal(ra, rb)
}
