package server

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

// bootstrap makes sure a new server can get its first user. With registration behind
// tokens, no account and no valid token, it creates a one-use token that makes its
// holder an admin, and prints it once to w (the terminal, not the log) with the command
// that uses it.
func (s *Server) bootstrap(ctx context.Context, w io.Writer) error {
	reg := s.cfg.Registration
	if !reg.BootstrapToken || !reg.Enabled || reg.Open {
		return nil
	}

	now := time.Now().UnixMilli()
	// An application service's own account is no user who could administer anything.
	n, err := s.store.CountPeople(ctx)
	if err != nil || n > 0 {
		return err
	}
	if ok, err := s.store.AnyValidRegistrationToken(ctx, now); err != nil || ok {
		return err
	}

	one := int64(1)
	tok := &store.RegistrationToken{Token: token.RegistrationToken(), UsesAllowed: &one,
		CreatedMS: now, GrantsAdmin: true}
	if err := s.store.CreateRegistrationToken(ctx, tok); err != nil {
		return err
	}

	base := strings.TrimSuffix(s.cfg.PublicBaseURL, "/") + "/"
	fmt.Fprintf(w, `
mxaccounts has no account yet. This one-use registration token registers the first
user, who becomes an admin:

    %s

Register with any Matrix client, or with curl:

    curl -X POST %s_matrix/client/v3/register -d '{
      "username": "alice", "password": "choose-a-password",
      "auth": {"type": "m.login.registration_token", "token": "%s"}}'

More tokens: mxaccounts token create %s

`, tok.Token, base, tok.Token, s.storeFlags())
	return nil
}

// storeFlags are the flags that point a command at this server's store.
func (s *Server) storeFlags() string {
	switch {
	case s.cfg.File != "" && s.cfg.Database.URL != "":
		return "--config " + s.cfg.File
	case s.cfg.File != "":
		return "--config " + s.cfg.File + " --data " + s.cfg.DataDir
	case s.cfg.Database.URL != "":
		return "(with the same MXACCOUNTS_DATABASE_URL)"
	}
	return "--data " + s.cfg.DataDir
}
