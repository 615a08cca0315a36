package threepid

import (
	"errors"
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/mxaccounts/mxaccounts/internal/sms"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// secretGrammar is the grammar of client_secret and sid: [0-9a-zA-Z.=_-], 1 to 255
// characters (https://spec.matrix.org/v1.13/client-server-api/#post_matrixclientv3registeremailrequesttoken).
var secretGrammar = regexp.MustCompile(`^[0-9a-zA-Z.=_-]{1,255}$`)

// checkSecret returns M_INVALID_PARAM unless value, the body field name, keeps to the
// client_secret and sid grammar.
func checkSecret(name, value string) error {
	if !secretGrammar.MatchString(value) {
		return mxerr.ErrInvalidParam.Msg("%s must be 1 to 255 characters of "+
			"0-9 a-z A-Z . = _ -", name)
	}
	return nil
}

// maxEmailLength is the longest address accepted, in bytes: what fits in an SMTP path
// (RFC 5321 section 4.5.3.1.3).
const maxEmailLength = 254

// CanonicalEmail returns the form in which an email address is stored and compared:
// the whole address in Unicode NFC, case-folded, so that Strauß@Example.com is
// strauss@example.com (https://spec.matrix.org/v1.13/appendices/#email). Only a bare
// address is accepted, as net/mail reads it: no display name, no angle brackets, no
// comments, no quoted local part. Anything else is M_INVALID_PARAM.
func CanonicalEmail(address string) (string, error) {
	bad := mxerr.ErrInvalidParam.Msg("%q is not an email address such as "+
		"alice@example.org", address)
	if address == "" || len(address) > maxEmailLength {
		return "", bad
	}
	parsed, err := mail.ParseAddress(address)
	if err != nil || parsed.Name != "" || parsed.Address != address {
		return "", bad
	}
	local, domain, ok := strings.Cut(address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(domain, "[]") {
		return "", bad // domain literals such as user@[127.0.0.1] are refused too
	}
	// RFC 5321 limits: 64 octets of local part, 63 per domain label.
	if len(local) > 64 {
		return "", bad
	}
	for label := range strings.SplitSeq(domain, ".") {
		if len(label) > 63 {
			return "", bad
		}
	}
	return cases.Fold().String(norm.NFC.String(address)), nil
}

// emailDomain returns the domain of a canonical address.
func emailDomain(address string) string {
	return address[strings.LastIndex(address, "@")+1:]
}

// inDomains reports whether host is one of domains or a subdomain of one; domains are
// compared case-insensitively.
func inDomains(host string, domains []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// EmailPolicy returns the Allowed function of the email medium for the domain lists of
// the configuration: an address passes when its domain is not denied and, if allowed
// is not empty, is allowed. A domain matches itself and its subdomains.
func EmailPolicy(allowed, denied []string) func(address string) bool {
	return func(address string) bool {
		domain := emailDomain(address)
		if inDomains(domain, denied) {
			return false
		}
		return len(allowed) == 0 || inDomains(domain, allowed)
	}
}

// ParseEmail is the Parse function of the email medium.
func ParseEmail(in AddressInput) (string, error) { return CanonicalEmail(in.Email) }

// MSISDNParser returns the Parse function of the msisdn medium: phone_number is read as
// a national number of country, or of defaultCountry when the client sent no country,
// unless it starts with '+'. The result is the E.164 digits. A number that is not one
// in use, or an unknown country, is M_INVALID_PARAM.
func MSISDNParser(defaultCountry string) func(in AddressInput) (string, error) {
	return func(in AddressInput) (string, error) {
		country := in.Country
		if country == "" {
			country = defaultCountry
		}
		msisdn, err := sms.Normalize(in.PhoneNumber, country)
		if errors.Is(err, sms.ErrUnknownCountry) {
			return "", mxerr.ErrInvalidParam.Msg("country %q is not an ISO 3166-1 "+
				"alpha-2 code with a numbering plan", country)
		}
		if err != nil {
			return "", mxerr.ErrInvalidParam.Msg("%q is not a phone number in use in %q; "+
				"give it with its country code, such as +44 7400 123456", in.PhoneNumber,
				country)
		}
		return msisdn, nil
	}
}

// maxNextLinkLength bounds a next_link; browsers and mail clients cope with far less.
const maxNextLinkLength = 2048

// checkNextLink returns M_INVALID_PARAM unless link is an absolute http or https URL
// with a host, within the allow-list when there is one: anything else (file:,
// javascript:, a relative path) would turn the validation link into a way to send
// users somewhere dangerous.
func checkNextLink(link string, domains []string) error {
	u, err := url.Parse(link)
	if err != nil || len(link) > maxNextLinkLength || u.Host == "" ||
		(!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		return mxerr.ErrInvalidParam.Msg("next_link must be an absolute http or https URL")
	}
	if len(domains) > 0 && !inDomains(u.Hostname(), domains) {
		return mxerr.ErrInvalidParam.Msg("next_link may not point to %s on this server",
			u.Hostname())
	}
	return nil
}

// Canonical returns the canonical form of an address that a client names with its
// medium (login identifiers, /account/3pid/delete): a case-folded email address, or an
// MSISDN without a leading +. It returns false for an address that cannot be one of
// the medium's, which therefore belongs to nobody.
func Canonical(m Medium, address string) (string, bool) {
	switch m {
	case MediumEmail:
		c, err := CanonicalEmail(address)
		return c, err == nil
	case MediumMSISDN:
		if msisdn, err := sms.Normalize(address, ""); err == nil {
			return msisdn, true
		}
		// A number the numbering plan no longer knows may still be on an account:
		// reading it as bare digits keeps it reachable, to be removed at least.
		digits := strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return r
			case r == '+' || r == ' ' || r == '-' || r == '.':
				return -1
			}
			return 'x'
		}, address)
		ok := digits != "" && len(digits) <= 15 && !strings.Contains(digits, "x")
		return digits, ok
	}
	return "", false
}
