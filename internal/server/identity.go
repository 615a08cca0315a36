package server

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/identity"
	"github.com/mxaccounts/mxaccounts/internal/signing"
)

// loadSigningKey returns the homeserver's signing key: the one in
// identity.signing_key_file, which must exist, or else the one in
// <data_dir>/signing.key, generated there on first start.
func loadSigningKey(cfg *config.Config, log *slog.Logger) (signing.Key, error) {
	if path := cfg.Identity.SigningKeyFile; path != "" {
		key, err := signing.LoadKey(path)
		if err != nil {
			return signing.Key{}, fmt.Errorf("identity.signing_key_file: %w", err)
		}
		return key, nil
	}

	path := filepath.Join(cfg.DataDir, signing.DefaultKeyFileName)
	key, created, err := signing.LoadOrGenerateKey(path)
	if err != nil {
		return signing.Key{}, fmt.Errorf("the signing key in data_dir: %w", err)
	}
	if created {
		log.Info("generated the server's signing key", "path", path, "key_id", key.ID)
	}
	return key, nil
}

// newIdentityClient returns the client that binds and unbinds addresses on identity
// servers, signing as cfg's server name with key.
func newIdentityClient(cfg *config.Config, key signing.Key) (*identity.Client, error) {
	c, err := identity.New(identity.Options{
		ServerName:     cfg.ServerName,
		Key:            key,
		TrustedServers: cfg.Identity.TrustedServers,
		Timeout:        cfg.Identity.Timeout,
		PlainHTTP:      cfg.Identity.AllowInsecureLoopback,
	})
	if err != nil {
		return nil, fmt.Errorf("identity servers: %w", err)
	}
	return c, nil
}
