package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// PasswordStage completes m.login.password with the account's identifier and password.
// Use the account's own identifier: with an access token, the server checks that both
// name the same user.
func PasswordStage(id *UserIdentifier, password string) Stage {
	return Stage{Type: AuthTypePassword,
		Solve: func(context.Context, StageInput) (*AuthData, error) {
			return &AuthData{Identifier: id, Password: password}, nil
		}}
}

// DummyStage completes m.login.dummy, which needs nothing.
func DummyStage() Stage {
	return Stage{Type: AuthTypeDummy,
		Solve: func(context.Context, StageInput) (*AuthData, error) {
			return &AuthData{}, nil
		}}
}

// RegistrationTokenStage completes m.login.registration_token with token.
func RegistrationTokenStage(token string) Stage {
	return Stage{Type: AuthTypeRegistrationToken,
		Solve: func(context.Context, StageInput) (*AuthData, error) {
			return &AuthData{Token: token}, nil
		}}
}

// TermsParams are the params of the m.login.terms stage: the policies the user must
// accept, by policy ID.
type TermsParams struct {
	Policies map[string]Policy `json:"policies"`
}

// Policy is one policy document of the m.login.terms stage, in its languages.
type Policy struct {
	Version string
	// Translations are the document's name and URL per language code, such as "en".
	Translations map[string]PolicyTranslation
}

// PolicyTranslation is a policy document in one language.
type PolicyTranslation struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// UnmarshalJSON reads a policy object: "version" and one key per language.
func (p *Policy) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decode policy: %w", err)
	}

	p.Version, p.Translations = "", map[string]PolicyTranslation{}
	for k, v := range raw {
		if k == "version" {
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return fmt.Errorf("decode policy version: %w", err)
			}
			continue
		}
		var tr PolicyTranslation
		if err := json.Unmarshal(v, &tr); err != nil {
			return fmt.Errorf("decode policy language %q: %w", k, err)
		}
		p.Translations[k] = tr
	}
	return nil
}

// TermsStage completes m.login.terms. review gets the policies on offer and returns nil
// when the user accepts them all, or an error that stops the authentication. A nil
// review accepts without looking, for callers that have shown the policies already.
func TermsStage(review func(ctx context.Context, p *TermsParams) error) Stage {
	return Stage{Type: AuthTypeTerms,
		Solve: func(ctx context.Context, in StageInput) (*AuthData, error) {
			if review == nil {
				return &AuthData{}, nil
			}
			p := &TermsParams{}
			if len(in.Params) > 0 {
				if err := json.Unmarshal(in.Params, p); err != nil {
					return nil, fmt.Errorf("decode m.login.terms params: %w", err)
				}
			}
			if err := review(ctx, p); err != nil {
				return nil, fmt.Errorf("terms not accepted: %w", err)
			}
			return &AuthData{}, nil
		}}
}

// ValidationSession is a 3PID validation session that the homeserver started for a
// requestToken call.
type ValidationSession struct {
	SID          string
	ClientSecret string
	// SubmitURL is where the token the user received may be sent with
	// SubmitValidationToken; "" when the server validates through its link only.
	SubmitURL string
}

// Credentials returns the session's threepid_creds, without identity server.
func (v ValidationSession) Credentials() *ThreePIDCredentials {
	return &ThreePIDCredentials{SID: v.SID, ClientSecret: v.ClientSecret}
}

// ThreePIDValidation proves the ownership of an email address or phone number during
// UIA, through two callbacks.
type ThreePIDValidation struct {
	// RequestToken asks the server to send the user a token, with the client secret the
	// stage made: normally a call to RequestEmailToken or RequestMSISDNToken with the
	// purpose of the operation (registration, password reset) and send_attempt 1.
	RequestToken func(ctx context.Context, clientSecret string) (*RequestTokenResponse, error)
	// Validate returns once the user has validated the session, for example after they
	// followed the link in the email or after SubmitValidationToken with the code they
	// typed. It returns the threepid_creds to send, normally v.Credentials(). It is
	// called again, with the same session, when the server did not count the stage as
	// done.
	Validate func(ctx context.Context, v ValidationSession) (*ThreePIDCredentials, error)
}

// EmailIdentityStage completes m.login.email.identity through v.
func EmailIdentityStage(v ThreePIDValidation) Stage {
	return Stage{Type: AuthTypeEmailIdentity, Solve: v.solver()}
}

// MSISDNStage completes m.login.msisdn through v.
func MSISDNStage(v ThreePIDValidation) Stage {
	return Stage{Type: AuthTypeMSISDN, Solve: v.solver()}
}

// solver requests one token per UIA session and validates it, as often as asked.
func (v ThreePIDValidation) solver() func(context.Context, StageInput) (*AuthData, error) {
	var (
		mu       sync.Mutex
		sessions = map[string]ValidationSession{} // by UIA session ID
	)
	return func(ctx context.Context, in StageInput) (*AuthData, error) {
		if v.RequestToken == nil || v.Validate == nil {
			return nil, errors.New("a ThreePIDValidation needs RequestToken and Validate")
		}

		mu.Lock()
		vs, ok := sessions[in.Session]
		mu.Unlock()
		if !ok {
			secret := NewClientSecret()
			resp, err := v.RequestToken(ctx, secret)
			if err != nil {
				return nil, fmt.Errorf("request a validation token: %w", err)
			}
			if resp == nil || resp.SID == "" {
				return nil, errors.New("request a validation token: no sid in the answer")
			}
			vs = ValidationSession{SID: resp.SID, ClientSecret: secret,
				SubmitURL: resp.SubmitURL}
			mu.Lock()
			sessions[in.Session] = vs
			mu.Unlock()
		}

		creds, err := v.Validate(ctx, vs)
		if err != nil {
			return nil, fmt.Errorf("validate session %s: %w", vs.SID, err)
		}
		return &AuthData{ThreePIDCreds: creds}, nil
	}
}

// NewClientSecret returns a random client_secret for a requestToken call: 26 characters
// from the secret grammar [0-9a-zA-Z.=_-].
func NewClientSecret() string {
	return rand.Text()
}
