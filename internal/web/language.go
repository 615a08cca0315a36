package web

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// preferredLanguages returns the language ranges of an Accept-Language header, most
// wanted first, in lower case, without those refused with q=0 and without "*".
func preferredLanguages(header string) []string {
	type weighted struct {
		tag string
		q   float64
	}
	var ranges []weighted
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			parsed, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = parsed
		}
		if tag != "" && tag != "*" && q > 0 {
			ranges = append(ranges, weighted{tag, q})
		}
	}

	// A stable sort keeps the header's order among equal weights.
	slices.SortStableFunc(ranges, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	out := make([]string, len(ranges))
	for i, w := range ranges {
		out[i] = w.tag
	}
	return out
}

// pickLanguage returns the key of texts to show for the preferences prefs: for each
// preference in turn, an exact match, then one with the same primary language (fr for
// fr-ca, fr-ca for fr); failing all, English (en before en-gb), then the first key in
// sorted order. texts must not be empty.
func pickLanguage(texts map[string]uia.PolicyText, prefs []string) string {
	keys := make([]string, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	for _, pref := range prefs {
		exact := func(k string) bool { return strings.EqualFold(k, pref) }
		if k, ok := findKey(keys, exact); ok {
			return k
		}
		primary := func(k string) bool { return primaryLanguage(k) == primaryLanguage(pref) }
		if k, ok := findKey(keys, primary); ok {
			return k
		}
	}
	english := func(k string) bool { return primaryLanguage(k) == "en" }
	if k, ok := findKey(keys, english); ok {
		return k
	}
	return keys[0]
}

// findKey returns the first key that matches.
func findKey(keys []string, match func(string) bool) (string, bool) {
	i := slices.IndexFunc(keys, match)
	if i < 0 {
		return "", false
	}
	return keys[i], true
}

// primaryLanguage is the first subtag of a language tag, in lower case.
func primaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(primary)
}
