package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/mxaccounts/mxaccounts/internal/server"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonFlags
	if err := newFlagSet("serve", stderr, &c, true).Parse(args); err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)

	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	return srv.Run(ctx, ln, stdout)
}

func runMigrate(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonFlags
	if err := newFlagSet("migrate", stderr, &c, false).Parse(args); err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	cfg.Database.MigrateOnStart = false

	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Migrate(ctx)
}
