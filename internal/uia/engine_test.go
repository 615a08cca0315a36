package uia_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// failing is a stage that fails with its error, or succeeds when err is nil.
type failing struct {
	typ string
	err error
}

func (f failing) Type() string                                 { return f.typ }
func (f failing) Params() any                                  { return map[string]string{"k": "v"} }
func (f failing) Complete(context.Context, *uia.Attempt) error { return f.err }

// twoStage offers [[a, b], [c]] for every operation.
func twoStage(uia.Operation) [][]string { return [][]string{{"a", "b"}, {"c"}} }

func newEngine(t *testing.T, st store.Store, stages ...uia.Stage) *uia.Engine {
	t.Helper()
	if len(stages) == 0 {
		stages = []uia.Stage{failing{typ: "a"}, failing{typ: "b"}, failing{typ: "c"}}
	}
	return uia.New(st, twoStage, time.Minute, stages...)
}

func body(t *testing.T, v map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, val := range v {
		raw, err := json.Marshal(val)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = raw
	}
	return out
}

func request(t *testing.T, b map[string]any) *uia.Request {
	t.Helper()
	return &uia.Request{Operation: uia.OpRegister, Method: "POST", Path: "/register",
		Body: body(t, b)}
}

func auth(typ, session string) map[string]any {
	a := map[string]any{}
	if typ != "" {
		a["type"] = typ
	}
	if session != "" {
		a["session"] = session
	}
	return map[string]any{"auth": a}
}

// challengeOf returns the challenge of a 401 answer, plain or carried by a failed stage.
func challengeOf(t *testing.T, err error) *mxerr.Challenge {
	t.Helper()
	var ch *mxerr.Challenge
	if errors.As(err, &ch) {
		return ch
	}
	var e *mxerr.Error
	if errors.As(err, &e) && e.UIA != nil {
		return e.UIA
	}
	t.Fatalf("want a challenge, got %v", err)
	return nil
}

func TestFlowsAndStageOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEngine(t, st)
		ctx := context.Background()

		_, err := e.Authenticate(ctx, request(t, map[string]any{"username": "u"}))
		ch := challengeOf(t, err)
		if len(ch.Flows) != 2 || ch.Session == "" || len(ch.Completed) != 0 {
			t.Fatalf("first challenge %+v", ch)
		}
		if _, ok := ch.Params["a"]; !ok {
			t.Errorf("params %v lack stage a's", ch.Params)
		}
		sess := ch.Session

		tests := []struct {
			name, stage   string
			wantDone      bool
			wantCompleted []string
			wantErr       mxerr.Code
		}{
			{"second stage first", "b", false, nil, mxerr.CodeForbidden},
			{"unknown stage", "zzz", false, nil, mxerr.CodeForbidden},
			{"first stage", "a", false, []string{"a"}, ""},
			{"first stage again is no error", "a", false, []string{"a"}, ""},
			{"a stage of the other flow", "c", false, []string{"a"}, mxerr.CodeForbidden},
			{"second stage", "b", true, nil, ""},
		}
		for _, tt := range tests {
			res, err := e.Authenticate(ctx, request(t, auth(tt.stage, sess)))
			if tt.wantDone {
				if err != nil || res == nil || res.Params["username"] == nil {
					t.Fatalf("%s: %v, %v; want the completed result with carried params",
						tt.name, res, err)
				}
				continue
			}
			ch := challengeOf(t, err)
			var merr *mxerr.Error
			gotCode := mxerr.Code("")
			if errors.As(err, &merr) {
				gotCode = merr.Code
			}
			if gotCode != tt.wantErr {
				t.Errorf("%s: errcode %q, want %q", tt.name, gotCode, tt.wantErr)
			}
			if tt.wantCompleted != nil && !slices.Equal(ch.Completed, tt.wantCompleted) {
				t.Errorf("%s: completed %v, want %v", tt.name, ch.Completed, tt.wantCompleted)
			}
		}
	})
}

func TestStageWithoutSessionStartsOne(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		res, err := newEngine(t, st).Authenticate(context.Background(),
			request(t, auth("c", "")))
		if err != nil || res == nil || !slices.Equal(res.Session.Completed, []string{"c"}) {
			t.Fatalf("auth without a session: %v, %v; want a completed one-stage flow", res,
				err)
		}
	})
}

func TestSessionBinding(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEngine(t, st)
		ctx := context.Background()
		first := func(r *uia.Request) string {
			_, err := e.Authenticate(ctx, r)
			return challengeOf(t, err).Session
		}

		tests := []struct {
			name    string
			change  func(r *uia.Request)
			body    map[string]any
			wantErr mxerr.Code
		}{
			{"another operation", func(r *uia.Request) { r.Operation = uia.OpDeactivate },
				nil, mxerr.CodeInvalidParam},
			{"another path", func(r *uia.Request) { r.Path = "/account/password" }, nil,
				mxerr.CodeInvalidParam},
			{"another method", func(r *uia.Request) { r.Method = "PUT" }, nil,
				mxerr.CodeInvalidParam},
			{"another user", func(r *uia.Request) { r.Requester = "@mallory:hs" }, nil,
				mxerr.CodeInvalidParam},
			{"a changed parameter", nil, map[string]any{"username": "other"},
				mxerr.CodeInvalidParam},
		}
		for _, tt := range tests {
			r := request(t, map[string]any{"username": "u"})
			r.Requester = "@owner:hs"
			sess := first(r)

			b := auth("a", sess)
			for k, v := range tt.body {
				b[k] = v
			}
			next := request(t, b)
			next.Requester = "@owner:hs"
			if tt.change != nil {
				tt.change(next)
			}
			_, err := e.Authenticate(ctx, next)
			var merr *mxerr.Error
			if !errors.As(err, &merr) || merr.Code != tt.wantErr || merr.UIA != nil {
				t.Errorf("%s: %v, want a plain %s", tt.name, err, tt.wantErr)
			}
		}

		_, err := e.Authenticate(ctx, request(t, auth("a", "NOSUCHSESSION")))
		if !errors.Is(err, mxerr.ErrInvalidParam) {
			t.Errorf("unknown session: %v, want M_INVALID_PARAM", err)
		}

		// A null session is no session: the request starts one.
		_, err = e.Authenticate(ctx, request(t, map[string]any{"auth": map[string]any{
			"session": nil}}))
		if ch := challengeOf(t, err); ch.Session == "" {
			t.Errorf("auth with a null session: %v; want a challenge with a new session",
				err)
		}
	})
}

func TestSecretCarriesOverAsHash(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEngine(t, st)
		ctx := context.Background()
		withSecret := func(b map[string]any) *uia.Request {
			r := request(t, b)
			r.Secret = "password"
			r.Hash = func(s string) string { return "h:" + s }
			r.Verify = func(h, s string) bool { return h == "h:"+s }
			return r
		}

		_, err := e.Authenticate(ctx, withSecret(map[string]any{"password": "pw1"}))
		sess := challengeOf(t, err).Session
		stored, err := st.UIASession(ctx, sess)
		if err != nil {
			t.Fatal(err)
		}
		if string(stored.Params) != "{}" || stored.PasswordHash != "h:pw1" {
			t.Errorf("stored params %s hash %q: the secret must not be kept in clear",
				stored.Params, stored.PasswordHash)
		}

		b := auth("c", sess)
		b["password"] = "pw2"
		_, err = e.Authenticate(ctx, withSecret(b))
		if !errors.Is(err, mxerr.ErrInvalidParam) {
			t.Errorf("a changed secret: %v, want M_INVALID_PARAM", err)
		}

		res, err := e.Authenticate(ctx, withSecret(auth("c", sess)))
		if err != nil || res.SecretHash != "h:pw1" {
			t.Errorf("secret left out: %v, %v; want the first request's hash", res, err)
		}
	})
}

func TestConsumeOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEngine(t, st)
		ctx := context.Background()
		res, err := e.Authenticate(ctx, request(t, auth("c", "")))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Consume(ctx, st, res); err != nil {
			t.Fatal(err)
		}
		if err := e.Consume(ctx, st, res); !errors.Is(err, mxerr.ErrForbidden) {
			t.Errorf("second Consume: %v, want M_FORBIDDEN", err)
		}

		_, err = e.Authenticate(ctx, request(t, auth("c", res.Session.ID)))
		ch := challengeOf(t, err)
		if !errors.Is(err, mxerr.ErrForbidden) || !slices.Equal(ch.Completed, []string{"c"}) {
			t.Errorf("replay of a used session: %v; want 401 M_FORBIDDEN listing [c]", err)
		}
	})
}

func TestCompleteStageOutOfBand(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEngine(t, st)
		ctx := context.Background()
		_, err := e.Authenticate(ctx, request(t, map[string]any{}))
		sess := challengeOf(t, err).Session

		if err := e.CompleteStage(ctx, sess, "c", nil); err != nil {
			t.Fatalf("CompleteStage: %v", err)
		}
		res, err := e.Authenticate(ctx, request(t, auth("", sess)))
		if err != nil || res == nil {
			t.Errorf("{session} only after out-of-band completion: %v, %v", res, err)
		}
		if err := e.CompleteStage(ctx, "NOSUCH", "c", nil); !errors.Is(err,
			mxerr.ErrUnknown) {
			t.Errorf("CompleteStage of an unknown session: %v", err)
		}
	})
}

func TestFailedStageCarriesChallenge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEngine(t, st, failing{typ: "a", err: mxerr.ErrForbidden.Msg("no")},
			failing{typ: "b"}, failing{typ: "c"})
		_, err := e.Authenticate(context.Background(), request(t, auth("a", "")))
		var merr *mxerr.Error
		if !errors.As(err, &merr) || merr.Status != http.StatusUnauthorized ||
			merr.UIA == nil || len(merr.UIA.Completed) != 0 {
			t.Errorf("failed stage: %v, want 401 with the challenge and nothing completed",
				err)
		}
	})
}

func TestRegistrationTokenStage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		one := int64(1)
		past := time.Now().Add(-time.Hour).UnixMilli()
		for _, tok := range []*store.RegistrationToken{
			{Token: "good", CreatedMS: 1},
			{Token: "once", UsesAllowed: &one, CreatedMS: 1},
			{Token: "expired", ExpiryMS: &past, CreatedMS: 1},
		} {
			if err := st.CreateRegistrationToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		only := func(uia.Operation) [][]string {
			return [][]string{{uia.TypeRegistrationToken}}
		}
		e := uia.New(st, only, time.Minute, uia.RegistrationToken{})

		tests := []struct {
			name    string
			token   any
			wantErr mxerr.Code
		}{
			{"missing", nil, mxerr.CodeMissingParam},
			{"a number", 1234, mxerr.CodeInvalidParam},
			{"bad grammar", "has space", mxerr.CodeInvalidParam},
			{"too long", string(make([]byte, 65)), mxerr.CodeInvalidParam},
			{"unknown", "nosuch", mxerr.CodeForbidden},
			{"expired", "expired", mxerr.CodeForbidden},
			{"valid", "good", ""},
			{"last use", "once", ""},
			{"used up", "once", mxerr.CodeForbidden},
		}
		for _, tt := range tests {
			a := map[string]any{"type": uia.TypeRegistrationToken}
			if tt.token != nil {
				a["token"] = tt.token
			}
			res, err := e.Authenticate(ctx, request(t, map[string]any{"auth": a}))
			if tt.wantErr == "" {
				if err != nil || res.Session.RegistrationToken != tt.token {
					t.Errorf("%s: %v, %v", tt.name, res, err)
				}
				continue
			}
			var merr *mxerr.Error
			if !errors.As(err, &merr) || merr.Code != tt.wantErr || merr.UIA == nil {
				t.Errorf("%s: %v, want a failed stage with %s", tt.name, err, tt.wantErr)
			}
		}
	})
}

func TestTermsParams(t *testing.T) {
	terms := uia.Terms{Policies: []uia.Policy{{ID: "privacy", Version: "1.0",
		Languages: map[string]uia.PolicyText{"en": {Name: "Privacy", URL: "https://x/p"}}}}}
	got, _ := json.Marshal(terms.Params())
	want := `{"policies":{"privacy":{"en":{"name":"Privacy","url":"https://x/p"},` +
		`"version":"1.0"}}}`
	if string(got) != want {
		t.Errorf("terms params\n got %s\nwant %s", got, want)
	}
}

func TestRecaptcha(t *testing.T) {
	verifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		_ = r.ParseForm()
		ok := r.PostForm.Get("secret") == "s3cret" && r.PostForm.Get("response") == "solved"
		json.NewEncoder(w).Encode(map[string]bool{"success": ok})
	}))
	defer verifier.Close()
	stage := uia.Recaptcha{SiteKey: "site", Secret: "s3cret", VerifyURL: verifier.URL}

	if p, _ := json.Marshal(stage.Params()); string(p) != `{"public_key":"site"}` {
		t.Errorf("params %s", p)
	}
	tests := []struct {
		name    string
		auth    map[string]any
		wantErr mxerr.Code
	}{
		{"solved", map[string]any{"response": "solved"}, ""},
		{"wrong", map[string]any{"response": "guess"}, mxerr.CodeUnauthorized},
		{"missing", map[string]any{}, mxerr.CodeMissingParam},
	}
	for _, tt := range tests {
		a := &uia.Attempt{Auth: body(t, tt.auth), Session: &store.UIASession{}}
		err := stage.Prepare(context.Background(), a)
		var merr *mxerr.Error
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (!errors.As(err, &merr) || merr.Code != tt.wantErr):
			t.Errorf("%s: %v, want %s", tt.name, err, tt.wantErr)
		}
	}
}
