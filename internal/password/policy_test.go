package password

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// defaultPolicy is the policy of the default configuration.
var defaultPolicy = Policy(config.Default().Passwords.Policy)

func TestPolicyCheckRules(t *testing.T) {
	tests := []struct {
		name     string
		policy   Policy
		password string
		// wantMsg holds phrases the error message must contain; nil means accepted.
		wantMsg []string
	}{
		{"zero policy accepts empty", Policy{}, "", nil},
		{"zero policy accepts common", Policy{}, "password", nil},

		{"length short", Policy{MinLength: 10}, "abcdefghi", []string{"at least 10 characters"}},
		{"length exact", Policy{MinLength: 10}, "abcdefghij", nil},
		{"length one", Policy{MinLength: 1}, "", []string{"at least 1 character long"}},

		{"digit missing", Policy{RequireDigit: true}, "abcdef", []string{"a digit"}},
		{"digit present", Policy{RequireDigit: true}, "abc1", nil},
		{"digit in another script", Policy{RequireDigit: true}, "abc٣", nil},

		{"lowercase missing", Policy{RequireLowercase: true}, "ABC1", []string{"a lowercase"}},
		{"lowercase accented missing", Policy{RequireLowercase: true}, "ÉCOLE",
			[]string{"a lowercase letter"}},
		{"lowercase accented", Policy{RequireLowercase: true}, "École", nil},

		{"uppercase missing", Policy{RequireUppercase: true}, "abc1",
			[]string{"an uppercase letter"}},
		{"uppercase greek", Policy{RequireUppercase: true}, "Ωmega", nil},
		{"uncased letters have no case", Policy{RequireUppercase: true}, "日本語",
			[]string{"an uppercase letter"}},

		{"symbol missing", Policy{RequireSymbol: true}, "abc123", []string{"a symbol"}},
		{"symbol punctuation", Policy{RequireSymbol: true}, "abc-123", nil},
		{"symbol space", Policy{RequireSymbol: true}, "abc 123", nil},
		{"symbol emoji", Policy{RequireSymbol: true}, "abc😀", nil},
		{"uncased letters are not symbols", Policy{RequireSymbol: true}, "日本語",
			[]string{"a symbol"}},

		{"zxcvbn weak", Policy{MinZxcvbnScore: 3}, "iloveyou", []string{"harder to guess"}},
		{"zxcvbn keyboard walk", Policy{MinZxcvbnScore: 2}, "qwertyuiop",
			[]string{"harder to guess"}},
		{"zxcvbn strong", Policy{MinZxcvbnScore: 4}, "vivid-otter-lantern-7-mosaic", nil},
		{"zxcvbn off", Policy{MinZxcvbnScore: 0}, "1234", nil},

		{"breached password1", Policy{RejectBreached: true}, "password1",
			[]string{"most common passwords"}},
		{"breached qwerty123", Policy{RejectBreached: true}, "qwerty123",
			[]string{"most common passwords"}},
		{"breached any case", Policy{RejectBreached: true}, "PassWord1",
			[]string{"most common passwords"}},
		{"breached name", Policy{RejectBreached: true}, "michael",
			[]string{"most common passwords"}},
		{"breached off", Policy{}, "password1", nil},
		{"not breached", Policy{RejectBreached: true}, "vivid-otter-lantern-7-mosaic", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.password)

			if tt.wantMsg == nil {
				if err != nil {
					t.Fatalf("Check(%q) = %v; want nil", tt.password, err)
				}
				return
			}
			msg := weakMessage(t, err)
			for _, want := range tt.wantMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("Check(%q) message %q does not say %q", tt.password, msg, want)
				}
			}
		})
	}
}

// TestPolicyCheckCountsCharacters checks that MinLength counts code points, not bytes.
func TestPolicyCheckCountsCharacters(t *testing.T) {
	tests := []struct {
		password string
		runes    int
	}{
		{"пароль1", 7},
		{"пароль12", 8},
		{"ääääääää", 8},
		{"日本語のパス", 6},
		{"日本語のパスワ", 7},
		{"😀😃😄😁😆😅🤣", 7},
		{"😀😃😄😁😆😅🤣😂", 8},
		{"e\u0301e\u0301e\u0301e\u0301", 8}, // combining accents count apart
	}
	p := Policy{MinLength: 8}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			if n := utf8.RuneCountInString(tt.password); n != tt.runes {
				t.Fatalf("the case is wrong: %q has %d runes, not %d", tt.password, n, tt.runes)
			}

			err := p.Check(tt.password)
			if got, want := err == nil, tt.runes >= 8; got != want {
				t.Errorf("Check(%q) (%d bytes, %d characters) = %v", tt.password,
					len(tt.password), tt.runes, err)
			}
		})
	}
}

func TestPolicyCheckAcceptsStrongPasswords(t *testing.T) {
	strict := Policy{MinLength: 12, RequireDigit: true, RequireLowercase: true,
		RequireUppercase: true, RequireSymbol: true, MinZxcvbnScore: 4, RejectBreached: true}
	tests := []struct {
		name     string
		policy   Policy
		password string
	}{
		{"passphrase", defaultPolicy, "vivid-otter-lantern-7-mosaic"},
		{"random", defaultPolicy, rand.Text()},
		{"cyrillic", defaultPolicy, "тихий-ёжик-пьёт-чай"},
		{"german", defaultPolicy, "Grüße aus Köln, 1987!"},
		{"japanese", defaultPolicy, "日本語のパスワードです"},
		{"strict passphrase", strict, "Vivid-otter-lantern-7-mosaic"},
		{"strict random", strict, rand.Text() + "-x1"},
		{"strict long", strict, "Ab1-" + randomText(40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Check(tt.password, "alice", "example.org"); err != nil {
				t.Errorf("Check(%q) = %v; want nil", tt.password, err)
			}
		})
	}
}

// TestPolicyCheckUserInputs checks that a password built from the localpart or the server
// name scores low.
func TestPolicyCheckUserInputs(t *testing.T) {
	p := Policy{MinZxcvbnScore: 3}
	tests := []struct {
		name       string
		password   string
		userInputs []string
	}{
		{"localpart", "kowalczykowski1990", []string{"kowalczykowski", "example.org"}},
		{"dotted localpart", "grzegorzbrzeczyszczykiewicz",
			[]string{"grzegorz.brzeczyszczykiewicz", "example.org"}},
		{"server name label", "blorptank1990", []string{"alice", "matrix.blorptank.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := p.Check(tt.password); err != nil {
				t.Fatalf("without user inputs Check(%q) = %v; want nil", tt.password, err)
			}

			before, after := score(tt.password), score(tt.password, tt.userInputs...)
			if after >= before {
				t.Errorf("score(%q) = %d without and %d with %q; want lower", tt.password,
					before, after, tt.userInputs)
			}
			msg := weakMessage(t, p.Check(tt.password, tt.userInputs...))
			if !strings.Contains(msg, "harder to guess") {
				t.Errorf("message %q does not ask for a harder password", msg)
			}
		})
	}
}

func TestPolicyCheckMessageNamesEveryRule(t *testing.T) {
	all := Policy{MinLength: 12, RequireDigit: true, RequireLowercase: true,
		RequireUppercase: true, RequireSymbol: true, MinZxcvbnScore: 3, RejectBreached: true}

	msg := weakMessage(t, all.Check("password"))
	for _, want := range []string{"at least 12 characters", "a digit", "an uppercase letter",
		"a symbol", "harder to guess", "most common passwords"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "lowercase") {
		t.Errorf("message %q asks for a lowercase letter, which the password has", msg)
	}

	// One wording check, for the shape of the sentence clients show.
	p := Policy{MinLength: 10, RejectBreached: true}
	want := "the password must be at least 10 characters long and must not be one of " +
		"the most common passwords"
	if msg := weakMessage(t, p.Check("password1")); msg != want {
		t.Errorf("message = %q\nwant      %q", msg, want)
	}
}

// TestPolicyCheckNonASCIIPatterns checks that repeats of non-ASCII characters are seen,
// which the zxcvbn port alone misses.
func TestPolicyCheckNonASCIIPatterns(t *testing.T) {
	for _, pw := range []string{"жжжжжжжж", "ÄÄÄÄÄÄÄÄÄÄ", "日日日日日日日日", "😀😀😀😀😀😀😀😀",
		"абабабабаб", "éaéaéaéaéa"} {
		if err := defaultPolicy.Check(pw); !errors.Is(err, mxerr.ErrWeakPassword) {
			t.Errorf("Check(%q) = %v; want M_WEAK_PASSWORD", pw, err)
		}
	}
}

func TestASCIIFolder(t *testing.T) {
	f := make(asciiFolder)
	got := f.fold("aжbжё\xff😀")
	want := "a\x00b\x00\x07\x0e\x15"
	if got != want {
		t.Errorf("fold = %q; want %q", got, want)
	}
	if again := f.fold("ёж"); again != "\x07\x00" {
		t.Errorf("a second fold with the same folder = %q; want the same bytes", again)
	}
}

func TestScoreOnlyReadsTheStart(t *testing.T) {
	weak := strings.Repeat("a", zxcvbnMaxRunes)
	if got, want := score(weak+rand.Text()), score(weak); got != want {
		t.Errorf("score with a random tail after %d characters = %d; want %d", zxcvbnMaxRunes,
			got, want)
	}

	tests := []struct {
		s    string
		n    int
		want int
	}{
		{"", 0, -1},
		{"ab", 2, -1},
		{"abc", 1, 1},
		{"жжж", 2, 4},
		{"😀😀", 1, 4},
	}
	for _, tt := range tests {
		if got := runeOffset(tt.s, tt.n); got != tt.want {
			t.Errorf("runeOffset(%q, %d) = %d; want %d", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestBreachedList(t *testing.T) {
	list := breached()
	if len(list) != 10000 {
		t.Errorf("the list has %d entries; want 10000", len(list))
	}
	for pw := range list {
		if pw != strings.ToLower(pw) || strings.TrimSpace(pw) != pw || pw == "" {
			t.Errorf("entry %q is not a lower-case, trimmed, non-empty line", pw)
		}
	}

	got := parseList("a\r\nb\n\nc")
	if len(got) != 3 {
		t.Errorf("parseList kept %d entries of a, b and c: %v", len(got), got)
	}
}

func TestConfigPolicyConverts(t *testing.T) {
	c := config.Policy{MinLength: 3, RequireDigit: true, RequireLowercase: true,
		RequireUppercase: true, RequireSymbol: true, MinZxcvbnScore: 4, RejectBreached: true}
	want := Policy{MinLength: 3, RequireDigit: true, RequireLowercase: true,
		RequireUppercase: true, RequireSymbol: true, MinZxcvbnScore: 4, RejectBreached: true}
	if got := Policy(c); got != want {
		t.Errorf("Policy(%+v) = %+v; want %+v", c, got, want)
	}
}

func FuzzPolicyCheck(f *testing.F) {
	for _, seed := range []string{"", "password1", "тихий-ёжик", "日本語", "😀a1!",
		"\xff\xfe", "a\x00b", strings.Repeat("é", 150)} {
		f.Add(seed, "alice")
	}
	all := Policy{MinLength: 8, RequireDigit: true, RequireLowercase: true,
		RequireUppercase: true, RequireSymbol: true, MinZxcvbnScore: 3, RejectBreached: true}

	f.Fuzz(func(t *testing.T, password, localpart string) {
		err := all.Check(password, localpart, "example.org")
		if err != nil && !errors.Is(err, mxerr.ErrWeakPassword) {
			t.Fatalf("Check(%q) = %v; want nil or M_WEAK_PASSWORD", password, err)
		}
		if err == nil && utf8.RuneCountInString(password) < all.MinLength {
			t.Fatalf("Check(%q) accepted a password shorter than %d", password, all.MinLength)
		}
	})
}

// BenchmarkPolicyCheck measures Check with the default policy, a localpart and a server
// name; zxcvbn dominates.
func BenchmarkPolicyCheck(b *testing.B) {
	breached() // load the list outside the timings

	cases := []struct{ name, password string }{
		{"common", "password1"},
		{"passphrase", "vivid-otter-lantern-7-mosaic"},
		{"cyrillic", "тихий-ёжик-пьёт-чай"},
		{"random26", "KQ4ZVJ2N7ODXH3WLMRF6YBTAGE"},
		{"long100", strings.Repeat("vivid-otter-lantern-7-mosaic", 4)[:100]},
		{"long10000", strings.Repeat("vivid-otter-lantern-7-mosaic", 400)[:10000]},
		// The slowest 100 characters found: l33t substitutions multiply the dictionary
		// lookups.
		{"l33t100", strings.Repeat("4@8(3691!|0$5+7%2", 6)[:100]},
		{"emoji100", strings.Repeat("😀🙂", 50)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_ = defaultPolicy.Check(c.password, "alice", "example.org")
			}
		})
	}
}

// BenchmarkBreachedListLoad measures the one-time cost of building the breached set.
func BenchmarkBreachedListLoad(b *testing.B) {
	for b.Loop() {
		_ = parseList(breachedText)
	}
}

// randomText returns n strings from rand.Text joined by dashes.
func randomText(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = rand.Text()
	}
	return strings.Join(parts, "-")
}

// weakMessage fails the test unless err is an M_WEAK_PASSWORD *mxerr.Error with status
// 400, and returns its message.
func weakMessage(t *testing.T, err error) string {
	t.Helper()

	if !errors.Is(err, mxerr.ErrWeakPassword) {
		t.Fatalf("error %v is not M_WEAK_PASSWORD", err)
	}
	var mx *mxerr.Error
	if !errors.As(err, &mx) || mx.Status != http.StatusBadRequest {
		t.Fatalf("error %#v is not an *mxerr.Error with status 400", err)
	}
	return mx.Message
}
