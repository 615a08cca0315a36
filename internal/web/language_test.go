package web

import (
	"slices"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/uia"
)

func TestPreferredLanguages(t *testing.T) {
	tests := []struct {
		header string
		want   []string
	}{
		{"", nil},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", []string{"fr-ch", "fr", "en", "de"}},
		{"de;q=0.5, en-GB", []string{"en-gb", "de"}},
		{"en;q=0, nl", []string{"nl"}},
		{"en;q=bad, it", []string{"it"}},
	}
	for _, tt := range tests {
		if got := preferredLanguages(tt.header); !slices.Equal(got, tt.want) {
			t.Errorf("preferredLanguages(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestPickLanguage(t *testing.T) {
	texts := func(langs ...string) map[string]uia.PolicyText {
		out := map[string]uia.PolicyText{}
		for _, l := range langs {
			out[l] = uia.PolicyText{Name: l}
		}
		return out
	}
	tests := []struct {
		name  string
		texts map[string]uia.PolicyText
		prefs []string
		want  string
	}{
		{"exact", texts("en", "fr"), []string{"fr"}, "fr"},
		{"case does not matter", texts("en", "pt-BR"), []string{"pt-br"}, "pt-BR"},
		{"region falls back to its language", texts("en", "fr"), []string{"fr-ca"}, "fr"},
		{"language finds a region", texts("en", "fr-FR"), []string{"fr"}, "fr-FR"},
		{"order of preference", texts("de", "fr"), []string{"it", "fr", "de"}, "fr"},
		{"English when nothing fits", texts("de", "en", "fr"), []string{"ja"}, "en"},
		{"English with a region", texts("de", "en-GB"), nil, "en-GB"},
		{"any when there is no English", texts("fr", "de"), []string{"ja"}, "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickLanguage(tt.texts, tt.prefs); got != tt.want {
				t.Errorf("pickLanguage(%v, %q) = %q, want %q", tt.texts, tt.prefs, got, tt.want)
			}
		})
	}
}
