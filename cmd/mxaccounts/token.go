package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/server"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/token"
)

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: mxaccounts token create [--uses N] [--expires DURATION] " +
			"[--config FILE] [--data DIR]")
	}

	var (
		c       commonFlags
		uses    int64
		expires time.Duration
	)
	fs := newFlagSet("token create", stderr, &c, false)
	fs.Int64Var(&uses, "uses", 0, "how many registrations the token allows (0: unlimited)")
	fs.DurationVar(&expires, "expires", 0, "how long the token stays valid, e.g. 72h "+
		"(0: forever)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if uses < 0 || expires < 0 {
		return fmt.Errorf("--uses and --expires must not be negative")
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}

	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	now := time.Now()
	t := &store.RegistrationToken{Token: token.RegistrationToken(), CreatedMS: now.UnixMilli()}
	if uses > 0 {
		t.UsesAllowed = &uses
	}
	if expires > 0 {
		ms := now.Add(expires).UnixMilli()
		t.ExpiryMS = &ms
	}
	if err := st.CreateRegistrationToken(ctx, t); err != nil {
		return err
	}
	fmt.Fprintln(stdout, t.Token)
	return nil
}
