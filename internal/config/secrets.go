package config

import (
	"fmt"
	"os"
	"strings"
)

// Secret returns the shared secret of shared-secret registration: shared_secret,
// or the content of shared_secret_file without its trailing line break. It returns ""
// when neither is set, and an error when the file cannot be read or is empty.
func (a Admin) Secret() (string, error) {
	if a.SharedSecretFile == "" {
		return a.SharedSecret, nil
	}

	data, err := os.ReadFile(a.SharedSecretFile)
	if err != nil {
		return "", fmt.Errorf("admin.shared_secret_file: %w", err)
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("admin.shared_secret_file: %s is empty", a.SharedSecretFile)
	}
	return secret, nil
}
