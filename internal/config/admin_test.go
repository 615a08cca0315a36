package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateOperatorKeys checks the admin, metrics and audit keys.
func TestValidateOperatorKeys(t *testing.T) {
	tests := []struct {
		name    string
		change  func(c *Config)
		wantKey string // empty when valid
	}{
		{"metrics on", func(c *Config) { c.Metrics.Listen = "127.0.0.1:9100" }, ""},
		{"both on port 0", func(c *Config) {
			c.Listen, c.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0"
		}, ""},
		{"keep audit for ever", func(c *Config) { c.Audit.Retention = 0 }, ""},
		{"secret and file", func(c *Config) {
			c.Admin.SharedSecret, c.Admin.SharedSecretFile = "s", "/f"
		}, "admin"},
		{"metrics not host:port", func(c *Config) { c.Metrics.Listen = "9100" },
			"metrics.listen"},
		{"metrics on the client port", func(c *Config) { c.Metrics.Listen = c.Listen },
			"metrics.listen"},
		{"negative retention", func(c *Config) { c.Audit.Retention = -1 }, "audit.retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.change(cfg)
			cfg.Derive()
			err := cfg.Validate()
			switch {
			case tt.wantKey == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKey)):
				t.Errorf("Validate() = %v; want an error naming %s", err, tt.wantKey)
			}
		})
	}
}

func TestAdminSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from the file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		admin   Admin
		want    string
		wantErr bool
	}{
		{"off", Admin{}, "", false},
		{"inline", Admin{SharedSecret: "inline"}, "inline", false},
		{"file without its newline", Admin{SharedSecretFile: file}, "from the file", false},
		{"empty file", Admin{SharedSecretFile: empty}, "", true},
		{"missing file", Admin{SharedSecretFile: filepath.Join(dir, "none")}, "", true},
	}
	for _, tt := range tests {
		got, err := tt.admin.Secret()
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: Secret() = %q, %v; want %q, error %v", tt.name, got, err, tt.want,
				tt.wantErr)
		}
	}
}
