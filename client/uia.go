package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// The UIA stage types this package has solvers for
// (https://spec.matrix.org/v1.13/client-server-api/#authentication-types).
const (
	AuthTypePassword          = "m.login.password"
	AuthTypeDummy             = "m.login.dummy"
	AuthTypeRegistrationToken = "m.login.registration_token"
	AuthTypeTerms             = "m.login.terms"
	AuthTypeEmailIdentity     = "m.login.email.identity"
	AuthTypeMSISDN            = "m.login.msisdn"
)

// DefaultMaxRounds is how many requests UIA.Do sends at most when MaxRounds is zero.
const DefaultMaxRounds = 10

// ErrNoUsableFlow is wrapped, together with the challenge, by the error UIA.Do returns
// when no flow on offer can be completed with the stages it was given.
var ErrNoUsableFlow = errors.New("no UIA flow can be completed with the stages given")

// AuthData is the auth object of a request to an endpoint protected by User-Interactive
// Authentication. Which fields a stage needs depends on its type
// (https://spec.matrix.org/v1.13/client-server-api/#authentication-types); Extra
// carries the keys of stage types this package does not know, and never overrides the
// typed fields.
type AuthData struct {
	Type    string `json:"type,omitempty"`
	Session string `json:"session,omitempty"`

	// Identifier and Password complete m.login.password.
	Identifier *UserIdentifier `json:"identifier,omitempty"`
	Password   string          `json:"password,omitempty"`
	// Token completes m.login.registration_token.
	Token string `json:"token,omitempty"`
	// ThreePIDCreds completes m.login.email.identity and m.login.msisdn.
	ThreePIDCreds *ThreePIDCredentials `json:"threepid_creds,omitempty"`

	Extra map[string]any `json:"-"`
}

// MarshalJSON writes the typed fields and the Extra keys as one object.
func (a AuthData) MarshalJSON() ([]byte, error) {
	type plain AuthData
	data, err := json.Marshal(plain(a))
	if err != nil || len(a.Extra) == 0 {
		return data, err
	}

	merged := make(map[string]any, len(a.Extra))
	for k, v := range a.Extra {
		merged[k] = v
	}
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(data, &typed); err != nil {
		return nil, fmt.Errorf("merge auth extras: %w", err)
	}
	for k, v := range typed {
		merged[k] = v
	}
	return json.Marshal(merged)
}

// StageInput is what a stage solver gets to complete its stage.
type StageInput struct {
	// Session is the UIA session ID; the helper puts it in the auth data.
	Session string
	// Params is the challenge's params entry for this stage type, or nil.
	Params json.RawMessage
	// Completed lists the stages the server has counted as done.
	Completed []string
	// Attempt counts the tries at this stage in one UIA.Do run, from 1. A stage the
	// server did not count as done, without saying it failed (an email not yet
	// confirmed), is tried again.
	Attempt int
}

// Stage solves one UIA stage type: given the challenge, it returns the auth data for
// the stage. UIA.Do fills in Type and Session.
type Stage struct {
	Type  string
	Solve func(ctx context.Context, in StageInput) (*AuthData, error)
}

// UIA completes User-Interactive Authentication for one operation with the stages it
// can solve. Do reads the flows from the server's 401 answer, picks the first flow whose
// stages it can all complete, and sends them in order.
type UIA struct {
	// Stages are the solvers, at most one per stage type.
	Stages []Stage
	// MaxRounds bounds the requests of one Do run, the first one included; 0 means
	// DefaultMaxRounds.
	MaxRounds int
}

// Do runs op, which must send the operation's request with the given auth data (nil on
// the first request), until the operation succeeds or fails. It returns nil when op
// succeeds, and op's error as it is when the answer is not a UIA challenge or when a
// stage failed (a 401 with an errcode, such as M_FORBIDDEN for a wrong password).
// When no flow can be completed it returns an error wrapping ErrNoUsableFlow and the
// challenge; when MaxRounds requests were not enough, an error wrapping the last
// challenge. A solver's error is returned wrapped.
//
// op may be called several times: it must send the same request each time, as UIA
// sessions are bound to one request.
func (u *UIA) Do(ctx context.Context, op func(ctx context.Context, auth *AuthData) error) error {
	maxRounds := u.MaxRounds
	if maxRounds <= 0 {
		maxRounds = DefaultMaxRounds
	}
	attempts := map[string]int{}

	err := op(ctx, nil)
	for round := 1; ; round++ {
		ch, ok := UIAChallenge(err)
		if !ok || failedStage(err) {
			return err
		}
		if round >= maxRounds {
			return fmt.Errorf("user-interactive authentication not done after %d requests: %w",
				round, err)
		}

		stage, pickErr := u.nextStage(ch)
		if pickErr != nil {
			return fmt.Errorf("%w: %w", pickErr, err)
		}
		attempts[stage.Type]++
		auth, solveErr := stage.Solve(ctx, StageInput{Session: ch.Session,
			Params: stageParams(ch, stage.Type), Completed: ch.Completed,
			Attempt: attempts[stage.Type]})
		if solveErr != nil {
			return fmt.Errorf("solve UIA stage %s: %w", stage.Type, solveErr)
		}

		if auth == nil {
			auth = &AuthData{}
		}
		auth.Type, auth.Session = stage.Type, ch.Session
		err = op(ctx, auth)
	}
}

// failedStage reports whether err is a challenge that says the last stage failed.
func failedStage(err error) bool {
	var e *mxerr.Error
	return errors.As(err, &e) && e.Code != ""
}

// nextStage picks the first flow whose remaining stages all have a solver, preferring
// flows that contain every completed stage, and returns the solver of its next stage.
func (u *UIA) nextStage(ch *mxerr.Challenge) (*Stage, error) {
	for _, progressOnly := range []bool{true, false} {
		for _, f := range ch.Flows {
			if progressOnly && !containsAll(f.Stages, ch.Completed) {
				continue
			}
			if s := u.firstSolvable(f.Stages, ch.Completed); s != nil {
				return s, nil
			}
		}
	}

	var offered [][]string
	for _, f := range ch.Flows {
		offered = append(offered, f.Stages)
	}
	var have []string
	for _, s := range u.Stages {
		have = append(have, s.Type)
	}
	return nil, fmt.Errorf("%w (offered %v, completed %v, solvers for %v)", ErrNoUsableFlow,
		offered, ch.Completed, have)
}

// firstSolvable returns the solver of the first stage of flow not in completed, or nil
// when some remaining stage has no solver or none remains.
func (u *UIA) firstSolvable(flow, completed []string) *Stage {
	var next *Stage
	for _, typ := range flow {
		if slices.Contains(completed, typ) {
			continue
		}
		s := u.solver(typ)
		if s == nil {
			return nil
		}
		if next == nil {
			next = s
		}
	}
	return next
}

func (u *UIA) solver(typ string) *Stage {
	for i := range u.Stages {
		if u.Stages[i].Type == typ && u.Stages[i].Solve != nil {
			return &u.Stages[i]
		}
	}
	return nil
}

func containsAll(flow, completed []string) bool {
	for _, c := range completed {
		if !slices.Contains(flow, c) {
			return false
		}
	}
	return true
}

// stageParams returns the challenge's params for typ as JSON, or nil.
func stageParams(ch *mxerr.Challenge, typ string) json.RawMessage {
	p, ok := ch.Params[typ]
	if !ok {
		return nil
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil
	}
	return data
}
