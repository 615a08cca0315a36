package sms

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidNumber is wrapped by the errors of Normalize, FromCountryPhone and the
// senders when a phone number is not a valid number; the HTTP layer answers 400
// M_INVALID_PARAM.
var ErrInvalidNumber = errors.New("invalid phone number")

// ErrUnknownCountry is wrapped by the errors of CheckCountry and FromCountryPhone when a
// country code is not a region the numbering metadata knows.
var ErrUnknownCountry = errors.New("unknown country code")

// Normalize turns a phone number as a person typed it into an MSISDN: the E.164 digits
// without '+' (https://spec.matrix.org/v1.13/appendices/#pstn-phone-numbers). A number
// starting with '+' is read as international. Any other is read as a national number
// of defaultCountry (an ISO 3166-1 alpha-2 code such as "GB"), or, when defaultCountry
// is empty, as international digits without the '+', which is how an MSISDN is
// written. The number must be valid for its country's numbering plan, not only of a
// plausible length. Errors wrap ErrInvalidNumber or ErrUnknownCountry.
func Normalize(input, defaultCountry string) (string, error) {
	input = strings.TrimSpace(input)
	region := strings.ToUpper(defaultCountry)
	if region == "" {
		if !strings.HasPrefix(input, "+") {
			input = "+" + input
		}
	} else if err := CheckCountry(region); err != nil {
		return "", err
	}
	return parse(input, region)
}

// FromCountryPhone turns the country and phone of an m.id.phone user identifier
// (https://spec.matrix.org/v1.13/client-server-api/#phone-number) into an MSISDN. The
// phone is read as a national number of country unless it starts with '+'. Errors wrap
// ErrUnknownCountry or ErrInvalidNumber.
func FromCountryPhone(country, phone string) (string, error) {
	region := strings.ToUpper(strings.TrimSpace(country))
	if err := CheckCountry(region); err != nil {
		return "", err
	}
	return parse(strings.TrimSpace(phone), region)
}

// CheckCountry returns nil when code is an ISO 3166-1 alpha-2 region with a numbering
// plan, in upper case, and an error wrapping ErrUnknownCountry when not.
func CheckCountry(code string) error {
	if !phonenumbers.GetSupportedRegions()[code] {
		return fmt.Errorf("%w: %q", ErrUnknownCountry, code)
	}
	return nil
}

// parse reads input with region as the default region ("" for none) and returns the
// valid number's E.164 digits.
func parse(input, region string) (string, error) {
	if input == "" || input == "+" {
		return "", fmt.Errorf("%w: the number is empty", ErrInvalidNumber)
	}

	num, err := phonenumbers.Parse(input, region)
	if err != nil {
		return "", fmt.Errorf("%w: %q (country %q): %w", ErrInvalidNumber, input, region,
			err)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: %q (country %q) is not a number in use", ErrInvalidNumber,
			input, region)
	}
	return strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+"), nil
}
