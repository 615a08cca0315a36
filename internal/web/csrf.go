package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// The fallback forms are protected with a double-submit token, which needs no state
// and no key shared between instances: the browser keeps a random secret in a cookie
// that only these pages see (HttpOnly, SameSite=Strict, Path of the page), and each
// form carries HMAC-SHA256(secret, stage and session) in a hidden field. A post must
// bring both, and the field must match the cookie, so another site can neither read
// nor forge the pair; binding the field to the stage and session keeps a form from
// being replayed against another. The Origin check in sameOrigin comes on top.

// csrfField is the name of the form's hidden field.
const csrfField = "csrf_token"

// csrfSecretBytes is the size of the cookie's random secret.
const csrfSecretBytes = 32

var b64 = base64.RawURLEncoding

// cookieName is the CSRF cookie's name; over HTTPS the __Secure- prefix makes browsers
// refuse one set without the Secure attribute.
func (f *Fallback) cookieName(r *http.Request) string {
	if f.secureCookie(r) {
		return "__Secure-mxaccounts-fallback"
	}
	return "mxaccounts-fallback"
}

func (f *Fallback) secureCookie(r *http.Request) bool { return f.secure || r.TLS != nil }

// issueCSRF sets the CSRF cookie, keeping the browser's secret when it sent one so that
// pages open side by side stay valid, and returns the form token for stage and session.
func (f *Fallback) issueCSRF(
	w http.ResponseWriter, r *http.Request, stage, session string,
) string {
	secret, ok := f.csrfSecret(r)
	if !ok {
		secret = make([]byte, csrfSecretBytes)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
	}
	http.SetCookie(w, &http.Cookie{
		Name:     f.cookieName(r),
		Value:    b64.EncodeToString(secret),
		Path:     r.URL.EscapedPath(),
		HttpOnly: true,
		Secure:   f.secureCookie(r),
		SameSite: http.SameSiteStrictMode,
	})
	return b64.EncodeToString(csrfMAC(secret, stage, session))
}

// validCSRF reports whether the post carries the cookie and a form token that matches
// it for stage and session.
func (f *Fallback) validCSRF(r *http.Request, stage, session string) bool {
	secret, ok := f.csrfSecret(r)
	if !ok {
		return false
	}
	got, err := b64.DecodeString(r.PostFormValue(csrfField))
	if err != nil {
		return false
	}
	return hmac.Equal(got, csrfMAC(secret, stage, session))
}

// csrfSecret returns the secret of the request's CSRF cookie when it is well formed.
func (f *Fallback) csrfSecret(r *http.Request) ([]byte, bool) {
	c, err := r.Cookie(f.cookieName(r))
	if err != nil {
		return nil, false
	}
	secret, err := b64.DecodeString(c.Value)
	if err != nil || len(secret) != csrfSecretBytes {
		return nil, false
	}
	return secret, true
}

func csrfMAC(secret []byte, stage, session string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("mxaccounts fallback form\x00" + stage + "\x00" + session))
	return mac.Sum(nil)
}

// sameOrigin reports whether a post may come from this page. A browser that says where
// the request comes from must say it is this origin: Sec-Fetch-Site same-origin, and an
// Origin of the public base URL or of the request's own host. Clients that send neither
// header still need the CSRF token.
//
// Under the pages' Referrer-Policy no-referrer, browsers send "Origin: null" even for
// the page's own form, so null passes when Sec-Fetch-Site, which a page cannot set,
// vouches for the request; browsers too old to send it get refused.
func (f *Fallback) sameOrigin(r *http.Request) bool { return sameOrigin(r, f.origin) }

// sameOrigin is Fallback.sameOrigin for pages whose public origin is origin.
func sameOrigin(r *http.Request, origin string) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	sent := r.Header.Get("Origin")
	switch {
	case sent == "":
		return true
	case sent == "null":
		return site == "same-origin"
	}

	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	got := normalizeOrigin(sent)
	return got != "" && (got == origin || got == normalizeOrigin(scheme+"://"+r.Host))
}

// publicOrigin returns the origin of the public base URL, or "" when it has none, and
// whether it is https.
func publicOrigin(baseURL string) (string, bool) {
	origin := normalizeOrigin(baseURL)
	return origin, strings.HasPrefix(origin, "https://")
}

// normalizeOrigin returns the origin of an http(s) URL as browsers write it: lower case,
// without a default port. It returns "" for anything else.
func normalizeOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (u.Scheme == "http" && port == "80") ||
		(u.Scheme == "https" && port == "443") {
		return u.Scheme + "://" + host
	}
	return u.Scheme + "://" + host + ":" + port
}
