package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// stageKind is what differs between the pages of the stages.
type stageKind struct {
	// Type is the auth type, such as m.login.terms.
	Type string
	// page names the stage's template; title is its heading.
	page  string
	title string
	// fill adds what the stage's form shows to v.
	fill func(f *Fallback, r *http.Request, sess *store.UIASession, v *view)
	// auth builds from the posted form the auth dict a client would send for the
	// stage, or says in a sentence what the user must fix.
	auth func(r *http.Request, sess *store.UIASession) (map[string]json.RawMessage, string)
	// signedIn limits the page to sessions started with an access token. A session
	// started without one belongs to nobody until a stage proves who acts, so a page
	// that proves it would let whoever started the session (and chose, say, the new
	// password) have someone else confirm it by a link.
	signedIn bool
}

// stageKinds are the stages with a fallback page, by auth type.
var stageKinds = map[string]*stageKind{
	uia.TypeRegistrationToken: {
		Type: uia.TypeRegistrationToken, page: "token", title: "Enter your registration token",
		auth: tokenAuth,
	},
	uia.TypeTerms: {
		Type: uia.TypeTerms, page: "terms", title: "Accept the terms of service",
		fill: fillTerms, auth: termsAuth,
	},
	uia.TypeRecaptcha: {
		Type: uia.TypeRecaptcha, page: "recaptcha", title: "Confirm that you are a person",
		fill: fillCaptcha, auth: captchaAuth,
	},
	account.TypePassword: {
		Type: account.TypePassword, page: "password", title: "Confirm your password",
		fill: fillPassword, auth: passwordAuth, signedIn: true,
	},
}

// tokenAuth is {"token": ...}.
func tokenAuth(r *http.Request, sess *store.UIASession) (map[string]json.RawMessage, string) {
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" {
		return nil, "Enter a registration token."
	}
	return authDict(uia.TypeRegistrationToken, sess, map[string]any{"token": tok}), ""
}

// termsAuth is {}: sending the form is the acceptance.
func termsAuth(_ *http.Request, sess *store.UIASession) (map[string]json.RawMessage, string) {
	return authDict(uia.TypeTerms, sess, nil), ""
}

// captchaAuth is {"response": ...}, the widget's answer. reCAPTCHA posts it as
// g-recaptcha-response (hCaptcha does too); Turnstile uses its own name.
func captchaAuth(r *http.Request, sess *store.UIASession) (map[string]json.RawMessage, string) {
	for _, name := range []string{"g-recaptcha-response", "h-captcha-response",
		"cf-turnstile-response"} {
		if resp := r.PostFormValue(name); resp != "" {
			return authDict(uia.TypeRecaptcha, sess, map[string]any{"response": resp}), ""
		}
	}
	return nil, "Complete the check above, then press Continue."
}

// passwordAuth is {"identifier": {"type": "m.id.user", "user": ...}, "password": ...}
// for the session's user; the page serves only sessions that have one.
func passwordAuth(r *http.Request, sess *store.UIASession) (map[string]json.RawMessage, string) {
	pw := r.PostFormValue("password")
	if pw == "" {
		return nil, "Enter your password."
	}
	return authDict(account.TypePassword, sess, map[string]any{
		"identifier": map[string]string{"type": "m.id.user", "user": sess.UserID.String()},
		"password":   pw,
	}), ""
}

// authDict is the auth dict of a client's request: type, session and the stage's keys.
func authDict(
	stageType string, sess *store.UIASession, keys map[string]any,
) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range keys {
		out[k], _ = json.Marshal(v) // strings and maps of strings always encode
	}
	out["type"], _ = json.Marshal(stageType)
	out["session"], _ = json.Marshal(sess.ID)
	return out
}

// policyLink is one policy as the terms page lists it, in the language picked for it.
type policyLink struct {
	Name, URL, Lang, Version string
}

// fillTerms lists the policies, each in the language that best fits the browser's.
func fillTerms(f *Fallback, r *http.Request, _ *store.UIASession, v *view) {
	var params struct {
		Policies map[string]map[string]json.RawMessage `json:"policies"`
	}
	if err := reencode(f.engine.StageParams(uia.TypeTerms), &params); err != nil {
		f.opts.Log.Error("read the terms of the m.login.terms stage", "error", err)
		return
	}

	prefs := preferredLanguages(r.Header.Get("Accept-Language"))
	for id, entry := range params.Policies {
		link := policyLink{}
		texts := map[string]uia.PolicyText{}
		for key, raw := range entry {
			var text uia.PolicyText
			if key == "version" {
				_ = json.Unmarshal(raw, &link.Version)
			} else if json.Unmarshal(raw, &text) == nil {
				texts[key] = text
			}
		}
		if len(texts) == 0 {
			f.opts.Log.Warn("terms policy has no text in any language", "policy", id)
			continue
		}
		link.Lang = pickLanguage(texts, prefs)
		link.Name, link.URL = texts[link.Lang].Name, texts[link.Lang].URL
		v.Policies = append(v.Policies, link)
	}
	slices.SortFunc(v.Policies, func(a, b policyLink) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.URL, b.URL))
	})
}

// fillCaptcha sets up the provider's widget with the site key.
func fillCaptcha(f *Fallback, _ *http.Request, _ *store.UIASession, v *view) {
	v.Captcha = &captchaView{ScriptURL: f.captcha.ScriptURL, Class: f.captcha.Class,
		SiteKey: f.siteKey()}
}

// fillPassword names the session's user, when it has one.
func fillPassword(_ *Fallback, _ *http.Request, sess *store.UIASession, v *view) {
	v.UserID = sess.UserID.String()
	v.Action = operationActions[sess.Operation]
}

// operationActions say what a user confirms on the password page, by the session's
// operation, so that nobody confirms an action without seeing which.
var operationActions = map[string]string{
	string(uia.OpPassword):     "change the password of this account",
	string(uia.OpDeactivate):   "deactivate this account for good",
	string(uia.OpAddThreepid):  "add an email address or phone number to this account",
	string(uia.OpDeleteDevice): "sign out and delete devices of this account",
	string(uia.OpLoginToken):   "let another device sign in to this account",
}

// siteKey is the captcha's public key from the stage's params, or "".
func (f *Fallback) siteKey() string {
	var params struct {
		PublicKey string `json:"public_key"`
	}
	if err := reencode(f.engine.StageParams(uia.TypeRecaptcha), &params); err != nil {
		return ""
	}
	return params.PublicKey
}

// reencode copies the JSON form of v into out, to read stage params of any Go type.
func reencode(v, out any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode stage params: %w", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode stage params: %w", err)
	}
	return nil
}
