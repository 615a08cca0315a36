package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const examplePath = "../../config.example.yaml"

// TestExampleMatchesDefaults keeps config.example.yaml honest: it loads strictly (no
// unknown keys), it names every key of the struct, and its values are the defaults.
func TestExampleMatchesDefaults(t *testing.T) {
	cfg, err := Load(examplePath, nil)
	if err != nil {
		t.Fatalf("load the example: %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("the example's values differ from Default():\nexample: %+v\ndefault: %+v",
			cfg, Default())
	}

	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	walkFields(reflect.ValueOf(Default()).Elem(), EnvPrefix, func(name string, _ reflect.Value) {
		if !hasPath(tree, name) {
			t.Errorf("config.example.yaml does not show %s", name)
		}
	})
}

// hasPath finds the key path of an environment name in the decoded YAML tree. Keys may
// share prefixes (failed_login, failed_login_account), so every key that fits is tried.
func hasPath(tree map[string]any, envName string) bool {
	return hasRest(tree, strings.ToLower(strings.TrimPrefix(envName, EnvPrefix+"_")))
}

func hasRest(node map[string]any, rest string) bool {
	for k, v := range node {
		if rest == k {
			return true
		}
		sub, ok := v.(map[string]any)
		if ok && strings.HasPrefix(rest, k+"_") && hasRest(sub, rest[len(k)+1:]) {
			return true
		}
	}
	return false
}

func TestDefaultsValidate(t *testing.T) {
	cfg := Default()
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	if cfg.PublicBaseURL != "http://127.0.0.1:8008/" {
		t.Errorf("public_baseurl derived as %q", cfg.PublicBaseURL)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := []string{
		"MXACCOUNTS_DATABASE_URL=postgres://u@127.0.0.1/db",
		"MXACCOUNTS_REGISTRATION_GUESTS=true",
		"MXACCOUNTS_RATE_LIMITS_FAILED_LOGIN_BURST=9",
		"MXACCOUNTS_RATE_LIMITS_FAILED_LOGIN_PER_SECOND=0.5",
		"MXACCOUNTS_UIA_SESSION_LIFETIME=5m",
		"MXACCOUNTS_PASSWORDS_ARGON2_PARALLELISM=4",
		"MXACCOUNTS_REGISTRATION_RESERVED_LOCALPARTS=a, b,,c",
		"MXACCOUNTS_PASSWORDS_POLICY_MIN_LENGTH=12",
		"MXACCOUNTS_PASSWORDS_POLICY_REQUIRE_UPPERCASE=true",
		"MXACCOUNTS_PASSWORDS_POLICY_REJECT_BREACHED=false",
		"OTHER_THING=ignored",
	}
	cfg, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"database.url", cfg.Database.URL, "postgres://u@127.0.0.1/db"},
		{"registration.guests", cfg.Registration.Guests, true},
		{"rate_limits.failed_login.burst", cfg.RateLimits.FailedLogin.Burst, 9},
		{"rate_limits.failed_login.per_second", cfg.RateLimits.FailedLogin.PerSecond, 0.5},
		{"uia.session_lifetime", cfg.UIA.SessionLifetime, 5 * time.Minute},
		{"passwords.argon2.parallelism", cfg.Passwords.Argon2.Parallelism, uint8(4)},
		{"registration.reserved_localparts", cfg.Registration.ReservedLocalparts,
			[]string{"a", "b", "c"}},
		{"passwords.policy.min_length", cfg.Passwords.Policy.MinLength, 12},
		{"passwords.policy.require_uppercase", cfg.Passwords.Policy.RequireUppercase, true},
		{"passwords.policy.reject_breached", cfg.Passwords.Policy.RejectBreached, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestEnvironmentErrorsNameTheVariable(t *testing.T) {
	_, err := Load("", []string{"MXACCOUNTS_REGISTRATION_GUESTS=maybe",
		"MXACCOUNTS_HTTP_MAX_BODY_BYTES=lots"})
	if err == nil {
		t.Fatal("bad values were accepted")
	}
	for _, name := range []string{"MXACCOUNTS_REGISTRATION_GUESTS",
		"MXACCOUNTS_HTTP_MAX_BODY_BYTES"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestFileOverridesAndUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("server_name: example.org\nregistration:\n  open: true\n"), 0o600)
	cfg, err := Load(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "example.org" || !cfg.Registration.Open || !cfg.Registration.Enabled {
		t.Errorf("file values not applied over the defaults: %+v", cfg.Registration)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("registration:\n  opne: true\n"), 0o600)
	if _, err := Load(bad, nil); err == nil || !strings.Contains(err.Error(), "opne") {
		t.Errorf("a misspelt key was not refused by name: %v", err)
	}

	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	if _, err := Load(empty, nil); err != nil {
		t.Errorf("an empty file is refused: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil {
		t.Error("a missing file is accepted")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.ServerName = ""
	cfg.PublicBaseURL = "ftp://x"
	cfg.Listen = "nonsense"
	cfg.Database.URL = "mysql://x"
	cfg.HTTP.MaxBodyBytes = 10
	cfg.Log.Format = "xml"
	cfg.RateLimits.Register.Burst = 0
	cfg.Passwords.Policy.MinLength = 0
	cfg.Passwords.Policy.MinZxcvbnScore = 5

	err := cfg.Validate()
	if err == nil {
		t.Fatal("an invalid configuration validated")
	}
	for _, key := range []string{"server_name", "public_baseurl", "listen", "database.url",
		"http.max_body_bytes", "log.format", "rate_limits.register",
		"passwords.policy.min_length", "passwords.policy.min_zxcvbn_score"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the error does not mention %s:\n%v", key, err)
		}
	}
}

func TestValidatePasswordPolicyBounds(t *testing.T) {
	tests := []struct {
		name      string
		minLength int
		minScore  int
		wantKey   string // the key the error names; empty when the values are valid
	}{
		{"lowest", 1, 0, ""},
		{"highest", 1024, 4, ""},
		{"length zero", 0, 2, "passwords.policy.min_length"},
		{"length too long", 1025, 2, "passwords.policy.min_length"},
		{"negative score", 8, -1, "passwords.policy.min_zxcvbn_score"},
		{"score above 4", 8, 5, "passwords.policy.min_zxcvbn_score"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			cfg.Derive()
			cfg.Passwords.Policy.MinLength = tt.minLength
			cfg.Passwords.Policy.MinZxcvbnScore = tt.minScore

			err := cfg.Validate()
			switch {
			case tt.wantKey == "" && err != nil:
				t.Errorf("valid policy refused: %v", err)
			case tt.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKey)):
				t.Errorf("Validate() = %v; want an error naming %s", err, tt.wantKey)
			}
		})
	}
}
