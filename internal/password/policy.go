// The list of common passwords in breached.txt holds the first 10,000 lines of
// data/passwords.txt from the Go module github.com/trustelem/zxcvbn v1.0.1 (MIT licence):
// the password frequency count that zxcvbn is built from (upstream zxcvbn counted it from
// the Xato set of ten million leaked passwords), most common first, one password per line,
// lower case, without the counts. It is the raw count rather than the "passwords" list of
// that module's frequency/lists.go, which leaves out passwords ranked higher in zxcvbn's
// name or word lists and short rare ones: 3,039 of these 10,000, such as michael.

package password

import (
	_ "embed" // for breached.txt
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"github.com/mxaccounts/mxaccounts/mxerr"
)

// Policy is the set of rules a new password must follow. Its zero value accepts every
// password. The fields match config.Policy one for one, so a config.Policy converts to
// a Policy.
type Policy struct {
	// MinLength is the least number of characters (Unicode code points); 0 disables it.
	MinLength int
	// RequireDigit asks for at least one decimal digit, in any script.
	RequireDigit bool
	// RequireLowercase asks for at least one lowercase letter. Letters without case,
	// such as Chinese characters, count as neither lowercase nor uppercase.
	RequireLowercase bool
	// RequireUppercase asks for at least one uppercase letter.
	RequireUppercase bool
	// RequireSymbol asks for at least one character that is neither a letter nor a
	// digit, such as punctuation or a space.
	RequireSymbol bool
	// MinZxcvbnScore is the least zxcvbn strength score, from 0 (too guessable) to 4
	// (very unguessable); 0 disables the check. Only the first 64 characters are
	// scored, which bounds the cost.
	MinZxcvbnScore int
	// RejectBreached refuses the 10,000 most common leaked passwords of breached.txt,
	// compared case-insensitively.
	RejectBreached bool
}

// zxcvbnMaxRunes bounds the part of a password that zxcvbn scores: its matchers grow
// faster than linearly with the length, and a longer password is not the weak one.
const zxcvbnMaxRunes = 64

// Check reports whether password follows p. userInputs are words the password must not
// lean on, such as the localpart and the server name; they lower the zxcvbn score of a
// password built from them. On a violation Check returns an *mxerr.Error that matches
// mxerr.ErrWeakPassword and whose message names every rule broken and what to change;
// otherwise it returns nil.
func (p Policy) Check(password string, userInputs ...string) error {
	var broken []string

	if n := utf8.RuneCountInString(password); p.MinLength > 0 && n < p.MinLength {
		broken = append(broken, fmt.Sprintf("be at least %d %s long", p.MinLength,
			plural(p.MinLength, "character")))
	}
	if missing := p.missingClasses(password); len(missing) > 0 {
		broken = append(broken, "contain "+joinAnd(missing, ""))
	}
	if p.MinZxcvbnScore > 0 && score(password, userInputs...) < p.MinZxcvbnScore {
		broken = append(broken, "be harder to guess (use more words, and avoid names, "+
			"dates, keyboard patterns and your username)")
	}
	if p.RejectBreached && isBreached(password) {
		broken = append(broken, "not be one of the most common passwords")
	}

	if len(broken) == 0 {
		return nil
	}
	return mxerr.ErrWeakPassword.Msg("the password %s", joinAnd(broken, "must "))
}

// missingClasses returns the required character classes that password lacks, named
// with their article for the message.
func (p Policy) missingClasses(password string) []string {
	var digit, lower, upper, symbol bool
	for _, r := range password {
		digit = digit || unicode.IsDigit(r)
		lower = lower || unicode.IsLower(r)
		upper = upper || unicode.IsUpper(r)
		symbol = symbol || !(unicode.IsLetter(r) || unicode.IsDigit(r))
	}

	var missing []string
	for _, c := range []struct {
		required, present bool
		name              string
	}{
		{p.RequireDigit, digit, "a digit"},
		{p.RequireLowercase, lower, "a lowercase letter"},
		{p.RequireUppercase, upper, "an uppercase letter"},
		{p.RequireSymbol, symbol, "a symbol or space"},
	} {
		if c.required && !c.present {
			missing = append(missing, c.name)
		}
	}
	return missing
}

// score returns the zxcvbn strength score of password, from 0 to 4, with userInputs and
// their alphanumeric parts (the labels of a server name, say) as an extra dictionary.
// Only the first 64 characters are scored: zxcvbn takes up to tens of milliseconds on
// long inputs crafted for it, and that cost is an attacker's to choose.
func score(password string, userInputs ...string) int {
	if i := runeOffset(password, zxcvbnMaxRunes); i >= 0 {
		password = password[:i]
	}

	fold := make(asciiFolder)
	words := make([]string, 0, 2*len(userInputs))
	for _, in := range userInputs {
		words = append(words, fold.fold(in))
		parts := strings.FieldsFunc(in, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		if len(parts) > 1 {
			for _, part := range parts {
				words = append(words, fold.fold(part))
			}
		}
	}
	return zxcvbn.PasswordStrength(fold.fold(password), words).Score
}

// asciiFolder gives each distinct non-ASCII character its own ASCII control character.
// The zxcvbn port sees repeats and sequences only among one-byte characters (its repeat
// matcher mixes byte and character offsets, its sequence matcher compares bytes), so it
// scores "жжжжжжжж" as eight random characters; folded, it sees the repeat. Its
// dictionaries and keyboard layouts are all ASCII, so folding hides no word from it.
// Successive new characters get control characters 7 apart, which the sequence matcher
// (steps of 1 to 5) does not take for a sequence; past 32 distinct characters they
// share, which can only lower the score.
//
// TODO(zxcvbn): sequences of non-ASCII letters, such as абвгдежз, still score as random;
// finding them needs a sequence matcher that compares characters, not bytes.
type asciiFolder map[rune]byte

// fold returns s with its non-ASCII characters, and its invalid bytes, folded.
func (f asciiFolder) fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		c, ok := f[r]
		if !ok {
			c = byte(len(f) * 7 % 32)
			f[r] = c
		}
		b.WriteByte(c)
	}
	return b.String()
}

// runeOffset returns the byte offset of the nth rune of s (counting from 0), or -1 when s
// has no more than n runes.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return -1
}

//go:embed breached.txt
var breachedText string

// breached is the set of common passwords, built on first use.
var breached = sync.OnceValue(func() map[string]struct{} { return parseList(breachedText) })

// isBreached reports whether password, lower-cased, is on the bundled list of the 10,000
// most common passwords.
func isBreached(password string) bool {
	_, ok := breached()[strings.ToLower(password)]
	return ok
}

// parseList makes a set of the non-empty lines of text.
func parseList(text string) map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(text, "\n")+1)
	for line := range strings.Lines(text) {
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			set[line] = struct{}{}
		}
	}
	return set
}

// joinAnd joins items as an English list, "a, b and c", putting prefix before each.
func joinAnd(items []string, prefix string) string {
	var b strings.Builder
	for i, item := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(prefix + item)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
