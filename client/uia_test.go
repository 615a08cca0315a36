package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// uiaEndpoint is a fake UIA endpoint with any flows: judge decides each stage attempt.
type uiaEndpoint struct {
	t      *testing.T
	flows  [][]string
	params map[string]any
	// judge returns whether the attempt completes its stage, or the errcode of a failure.
	judge func(auth map[string]any) (done bool, errcode mxerr.Code)

	mu        sync.Mutex
	completed []string
}

func (u *uiaEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := decodeAuth(u.t, readBody(u.t, r))

	u.mu.Lock()
	defer u.mu.Unlock()
	var errcode mxerr.Code
	if auth != nil {
		if auth["session"] != "S" {
			writeJSON(w, http.StatusBadRequest, `{"errcode":"M_UNKNOWN","error":"session"}`)
			return
		}
		done, code := u.judge(auth)
		if done {
			u.completed = append(u.completed, auth["type"].(string))
		}
		errcode = code
	}
	for _, f := range u.flows {
		if fmt.Sprint(f) == fmt.Sprint(u.completed) {
			writeJSON(w, http.StatusOK, `{"ok":true}`)
			return
		}
	}

	flows := make([]mxerr.Flow, 0, len(u.flows))
	for _, f := range u.flows {
		flows = append(flows, mxerr.Flow{Stages: f})
	}
	ch := &mxerr.Challenge{Flows: flows, Params: u.params, Session: "S",
		Completed: u.completed}
	var body []byte
	if errcode != "" {
		body, _ = json.Marshal(mxerr.New(401, errcode, "stage failed").WithUIA(ch))
	} else {
		body, _ = json.Marshal(ch)
	}
	writeJSON(w, http.StatusUnauthorized, string(body))
}

// runOp runs a POST to the fake endpoint through u and returns the error.
func runOp(t *testing.T, c *client.Client, u *client.UIA) error {
	t.Helper()
	return u.Do(t.Context(), func(ctx context.Context, auth *client.AuthData) error {
		_, err := c.Register(ctx, &client.RegisterRequest{Auth: auth, Username: "u"})
		return err
	})
}

// uiaServer serves ep at the register path.
func uiaServer(t *testing.T, ep *uiaEndpoint) *fakeServer {
	t.Helper()
	ep.t = t
	return newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/register": ep.ServeHTTP,
	})
}

// TestUIAFlowChoice checks that the helper skips flows it cannot finish, walks a
// two-stage flow in order, and hands the terms params to the review callback.
func TestUIAFlowChoice(t *testing.T) {
	t.Parallel()
	ep := &uiaEndpoint{
		flows: [][]string{
			{"m.login.recaptcha", client.AuthTypeTerms},
			{client.AuthTypeRegistrationToken, client.AuthTypeTerms},
		},
		params: map[string]any{client.AuthTypeTerms: map[string]any{"policies": map[string]any{
			"privacy": map[string]any{"version": "2",
				"en": map[string]any{"name": "Privacy", "url": "https://hs.example/p"}}}}},
		judge: func(auth map[string]any) (bool, mxerr.Code) {
			return auth["type"] != client.AuthTypeRegistrationToken || auth["token"] == "tok", ""
		},
	}
	fs := uiaServer(t, ep)

	var seen *client.TermsParams
	u := &client.UIA{Stages: []client.Stage{
		client.TermsStage(func(ctx context.Context, p *client.TermsParams) error {
			seen = p
			return nil
		}),
		client.RegistrationTokenStage("tok"),
	}}
	if err := runOp(t, fs.client(t, client.Tokens{}), u); err != nil {
		t.Fatalf("UIA: %v", err)
	}

	var types []any
	for _, r := range fs.requests() {
		auth := decodeAuth(t, r.Body)
		types = append(types, auth["type"])
	}
	want := []any{nil, client.AuthTypeRegistrationToken, client.AuthTypeTerms}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("stages sent %v, want %v", types, want)
	}
	p, ok := seen.Policies["privacy"]
	if !ok || p.Version != "2" || p.Translations["en"].URL != "https://hs.example/p" {
		t.Errorf("review got %+v, want the privacy policy version 2", seen)
	}
}

// TestUIAStops checks each way the helper ends without success.
func TestUIAStops(t *testing.T) {
	t.Parallel()
	errRefused := errors.New("refused by the user")

	tests := []struct {
		name      string
		judge     func(map[string]any) (bool, mxerr.Code)
		stages    []client.Stage
		maxRounds int
		check     func(t *testing.T, err error)
		requests  int
	}{
		{
			name:   "failed stage",
			judge:  func(map[string]any) (bool, mxerr.Code) { return false, mxerr.CodeForbidden },
			stages: []client.Stage{client.PasswordStage(client.ByUser("u"), "wrong")},
			check: func(t *testing.T, err error) {
				e := wantMatrixError(t, err, mxerr.ErrForbidden, http.StatusUnauthorized)
				if e.UIA == nil || e.UIA.Session != "S" {
					t.Errorf("challenge %+v, want session S", e.UIA)
				}
			},
			requests: 2,
		},
		{
			name:      "never completed",
			judge:     func(map[string]any) (bool, mxerr.Code) { return false, "" },
			stages:    []client.Stage{client.PasswordStage(client.ByUser("u"), "pw")},
			maxRounds: 3,
			check: func(t *testing.T, err error) {
				if _, ok := client.UIAChallenge(err); !ok || err == nil {
					t.Errorf("error %v, want one carrying the challenge", err)
				}
			},
			requests: 3,
		},
		{
			name:  "solver error",
			judge: func(map[string]any) (bool, mxerr.Code) { return true, "" },
			stages: []client.Stage{{Type: client.AuthTypePassword,
				Solve: func(context.Context, client.StageInput) (*client.AuthData, error) {
					return nil, errRefused
				}}},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errRefused) {
					t.Errorf("error %v, want the solver's", err)
				}
			},
			requests: 1,
		},
		{
			name:   "no usable flow",
			judge:  func(map[string]any) (bool, mxerr.Code) { return true, "" },
			stages: []client.Stage{client.DummyStage()},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, client.ErrNoUsableFlow) {
					t.Errorf("error %v, want ErrNoUsableFlow", err)
				}
			},
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := uiaServer(t, &uiaEndpoint{flows: [][]string{{client.AuthTypePassword}},
				judge: tt.judge})

			err := runOp(t, fs.client(t, client.Tokens{}),
				&client.UIA{Stages: tt.stages, MaxRounds: tt.maxRounds})

			tt.check(t, err)
			if n := len(fs.requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

// TestUIANotNeeded checks that an operation answered without a challenge, or refused
// with an ordinary error, runs once.
func TestUIANotNeeded(t *testing.T) {
	t.Parallel()
	for status, body := range map[int]string{
		http.StatusOK:         `{"user_id":"@u:hs"}`,
		http.StatusBadRequest: `{"errcode":"M_USER_IN_USE","error":"taken"}`,
	} {
		fs := newFakeServer(t, map[string]http.HandlerFunc{
			"POST /_matrix/client/v3/register": answer(status, body)})

		err := runOp(t, fs.client(t, client.Tokens{}),
			&client.UIA{Stages: []client.Stage{client.DummyStage()}})
		if (err == nil) != (status == http.StatusOK) {
			t.Errorf("HTTP %d: error %v", status, err)
		}
		if n := len(fs.requests()); n != 1 {
			t.Errorf("HTTP %d: %d requests, want 1", status, n)
		}
	}
}

// TestUIAEmailRetried checks that an email stage the server has not yet counted is
// validated again with the same validation session, not a new token.
func TestUIAEmailRetried(t *testing.T) {
	t.Parallel()
	attempts := 0
	fs := uiaServer(t, &uiaEndpoint{flows: [][]string{{client.AuthTypeEmailIdentity}},
		judge: func(auth map[string]any) (bool, mxerr.Code) {
			attempts++
			return attempts == 2, "" // the user clicks the link after the first try
		}})

	requested, validated := 0, 0
	var secrets []string
	stage := client.EmailIdentityStage(client.ThreePIDValidation{
		RequestToken: func(ctx context.Context, secret string) (*client.RequestTokenResponse,
			error) {
			requested++
			return &client.RequestTokenResponse{SID: "sid"}, nil
		},
		Validate: func(ctx context.Context, v client.ValidationSession) (
			*client.ThreePIDCredentials, error) {
			validated++
			secrets = append(secrets, v.ClientSecret)
			return v.Credentials(), nil
		},
	})
	if err := runOp(t, fs.client(t, client.Tokens{}),
		&client.UIA{Stages: []client.Stage{stage}}); err != nil {
		t.Fatalf("UIA: %v", err)
	}

	if requested != 1 || validated != 2 || secrets[0] != secrets[1] {
		t.Errorf("requested %d, validated %d with secrets %v; want 1, 2 with one secret",
			requested, validated, secrets)
	}
	last := decodeAuth(t, fs.last(t).Body)
	creds, _ := last["threepid_creds"].(map[string]any)
	if creds["sid"] != "sid" || creds["client_secret"] != secrets[0] {
		t.Errorf("threepid_creds %v", creds)
	}
}

// TestAuthDataExtra checks that the keys of unknown stage types are sent beside the
// typed fields, which win on a clash.
func TestAuthDataExtra(t *testing.T) {
	t.Parallel()
	a := client.AuthData{Type: "m.login.recaptcha", Session: "S",
		Extra: map[string]any{"response": "captcha", "type": "ignored"}}

	got, err := json.Marshal(&client.RegisterRequest{Auth: &a})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON(t, got, `{"auth":{"type":"m.login.recaptcha","session":"S","response":"captcha"}}`)
}

// TestNewClientSecret checks the grammar of client secrets and that they differ.
func TestNewClientSecret(t *testing.T) {
	t.Parallel()
	a, b := client.NewClientSecret(), client.NewClientSecret()
	if a == b {
		t.Error("two client secrets are equal")
	}
	for _, c := range a {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			c == '.' || c == '=' || c == '_' || c == '-'
		if !ok {
			t.Errorf("client secret %q has %q, outside [0-9a-zA-Z.=_-]", a, c)
		}
	}
}

// TestUIAMSISDNAndTerms registers through a phone stage, whose token request goes to
// the register family, and a terms stage accepted without review.
func TestUIAMSISDNAndTerms(t *testing.T) {
	t.Parallel()
	ep := &uiaEndpoint{t: t,
		flows: [][]string{{client.AuthTypeMSISDN, client.AuthTypeTerms}},
		judge: func(auth map[string]any) (bool, mxerr.Code) {
			if auth["type"] != client.AuthTypeMSISDN {
				return true, ""
			}
			creds, _ := auth["threepid_creds"].(map[string]any)
			return creds["sid"] == "phone-sid", ""
		}}
	fs := newFakeServer(t, map[string]http.HandlerFunc{
		"POST /_matrix/client/v3/register": ep.ServeHTTP,
		"POST /_matrix/client/v3/register/msisdn/requestToken": answer(http.StatusOK,
			`{"sid":"phone-sid"}`),
	})
	c := fs.client(t, client.Tokens{})

	stage := client.MSISDNStage(client.ThreePIDValidation{
		RequestToken: func(ctx context.Context, secret string) (*client.RequestTokenResponse,
			error) {
			return c.RequestMSISDNToken(ctx, client.PurposeRegister, &client.MSISDNTokenRequest{
				ClientSecret: secret, Country: "GB", PhoneNumber: "07700900001",
				SendAttempt: 1})
		},
		Validate: func(ctx context.Context, v client.ValidationSession) (
			*client.ThreePIDCredentials, error) {
			return v.Credentials(), nil
		},
	})
	u := &client.UIA{Stages: []client.Stage{client.TermsStage(nil), stage}}
	if err := runOp(t, c, u); err != nil {
		t.Fatalf("UIA: %v", err)
	}

	var sent []string
	for _, r := range fs.requests() {
		sent = append(sent, r.Path)
	}
	want := []string{"/_matrix/client/v3/register",
		"/_matrix/client/v3/register/msisdn/requestToken",
		"/_matrix/client/v3/register", "/_matrix/client/v3/register"}
	if fmt.Sprint(sent) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v", sent, want)
	}
}
