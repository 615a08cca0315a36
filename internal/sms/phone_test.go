package sms

import (
	"errors"
	"testing"
)

// The valid numbers below are the example numbers of libphonenumber's metadata; the
// drama range that Ofcom keeps for fiction (07700 900xxx) is not valid, being
// assigned to no one.
func TestNormalize(t *testing.T) {
	tests := []struct {
		name, input, country, want string
	}{
		{"GB international", "+44 7400 123456", "", "447400123456"},
		{"GB national with default", "07400 123456", "GB", "447400123456"},
		{"GB international despite another default", "+44 7400 123456", "US",
			"447400123456"},
		{"US punctuation", "(201) 555-0123", "US", "12015550123"},
		{"US with IDD prefix", "011 44 7400 123456", "US", "447400123456"},
		{"DE mobile", "0151 23456789", "DE", "4915123456789"},
		{"FR national", "06 12 34 56 78", "FR", "33612345678"},
		{"JP national", "090-1234-5678", "JP", "819012345678"},
		{"IN national", "081234 56789", "IN", "918123456789"},
		{"BR national", "(11) 96123-4567", "BR", "5511961234567"},
		{"msisdn without plus, no default", "447400123456", "", "447400123456"},
		{"lower-case default country", "07400 123456", "gb", "447400123456"},
		{"surrounding space", "  +33 6 12 34 56 78 ", "", "33612345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.input, tt.country)
			if err != nil {
				t.Fatalf("Normalize(%q, %q): %v", tt.input, tt.country, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q, %q) = %s, want %s", tt.input, tt.country, got,
					tt.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name, input, country string
		want                 error
	}{
		{"empty", "", "GB", ErrInvalidNumber},
		{"only a plus", "+", "", ErrInvalidNumber},
		{"letters only", "call me", "GB", ErrInvalidNumber},
		{"too short", "123", "GB", ErrInvalidNumber},
		{"too long", "+44 7400 123456 456789", "", ErrInvalidNumber},
		{"unassigned country code", "+999 1234 5678", "", ErrInvalidNumber},
		{"national without a default", "07400 123456", "", ErrInvalidNumber},
		{"not in the plan", "+44 0000 000000", "", ErrInvalidNumber},
		{"fiction range", "07700 900123", "GB", ErrInvalidNumber},
		{"unknown default country", "07400 123456", "XX", ErrUnknownCountry},
		{"three-letter country", "07400 123456", "GBR", ErrUnknownCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.input, tt.country)
			if !errors.Is(err, tt.want) {
				t.Errorf("Normalize(%q, %q) = %q, %v; want %v", tt.input, tt.country, got,
					err, tt.want)
			}
		})
	}
}

func TestFromCountryPhone(t *testing.T) {
	tests := []struct {
		country, phone, want string
		wantErr              error
	}{
		{"GB", "07400 123456", "447400123456", nil},
		{"US", "201-555-0123", "12015550123", nil},
		{"de", "015123456789", "4915123456789", nil},
		{"GB", "+1 201 555 0123", "12015550123", nil},
		{"", "07400 123456", "", ErrUnknownCountry},
		{"ZZ", "07400 123456", "", ErrUnknownCountry},
		{"GB", "12", "", ErrInvalidNumber},
	}
	for _, tt := range tests {
		got, err := FromCountryPhone(tt.country, tt.phone)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("FromCountryPhone(%q, %q) = %q, %v; want %v", tt.country, tt.phone,
					got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FromCountryPhone(%q, %q) = %q, %v; want %s", tt.country, tt.phone, got,
				err, tt.want)
		}
	}
}
