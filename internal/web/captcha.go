package web

import (
	"net/url"
	"strings"
)

// captchaWidget is how a captcha provider's widget is put on a page.
type captchaWidget struct {
	// ScriptURL is the provider's script, which renders the widget.
	ScriptURL string
	// Class marks the container the script renders into.
	Class string
	// Sources are what the widget loads, for the page's Content-Security-Policy.
	Sources captchaSources
}

// captchaSources are the CSP sources a widget needs, per directive.
type captchaSources struct {
	Script, Style, Frame, Connect []string
}

// The widgets of the providers whose verifiers have the reCAPTCHA shape. Their sources
// follow each provider's published CSP advice.
//
// TODO(captcha): the widgets load from the providers' servers, which the tests cannot
// reach; only the page around them is tested.
var (
	recaptchaWidget = captchaWidget{
		ScriptURL: "https://www.google.com/recaptcha/api.js",
		Class:     "g-recaptcha",
		Sources: captchaSources{
			Script: []string{"https://www.google.com/recaptcha/",
				"https://www.gstatic.com/recaptcha/"},
			Frame: []string{"https://www.google.com/recaptcha/",
				"https://recaptcha.google.com/recaptcha/"},
		},
	}
	hcaptchaWidget = captchaWidget{
		ScriptURL: "https://js.hcaptcha.com/1/api.js",
		Class:     "h-captcha",
		Sources: captchaSources{
			Script:  []string{"https://hcaptcha.com", "https://*.hcaptcha.com"},
			Style:   []string{"https://hcaptcha.com", "https://*.hcaptcha.com"},
			Frame:   []string{"https://hcaptcha.com", "https://*.hcaptcha.com"},
			Connect: []string{"https://hcaptcha.com", "https://*.hcaptcha.com"},
		},
	}
	turnstileWidget = captchaWidget{
		ScriptURL: "https://challenges.cloudflare.com/turnstile/v0/api.js",
		Class:     "cf-turnstile",
		Sources: captchaSources{
			Script: []string{"https://challenges.cloudflare.com"},
			Frame:  []string{"https://challenges.cloudflare.com"},
		},
	}
)

// captchaFor picks the widget that belongs to a verify URL; reCAPTCHA is the default.
func captchaFor(verifyURL string) captchaWidget {
	u, err := url.Parse(verifyURL)
	if err != nil {
		return recaptchaWidget
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "hcaptcha.com" || strings.HasSuffix(host, ".hcaptcha.com"):
		return hcaptchaWidget
	case host == "challenges.cloudflare.com":
		return turnstileWidget
	}
	return recaptchaWidget
}
