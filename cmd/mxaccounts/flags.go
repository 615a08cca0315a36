package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/mxaccounts/mxaccounts/internal/config"
)

// commonFlags are the flags every command that opens the store takes.
type commonFlags struct {
	config string
	data   string
	listen string
}

func newFlagSet(name string, stderr io.Writer, c *commonFlags, withListen bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.config, "config", "", "YAML config `file` (optional)")
	fs.StringVar(&c.data, "data", "", "data `directory`, overriding data_dir")
	if withListen {
		fs.StringVar(&c.listen, "listen", "", "listen `address` host:port, overriding listen")
	}
	return fs
}

// loadConfig loads the file and the environment, applies the flags, and validates.
func (c *commonFlags) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(c.config, os.Environ())
	if err != nil {
		return nil, err
	}
	cfg.File = c.config
	if c.data != "" {
		cfg.DataDir = c.data
	}
	if c.listen != "" {
		cfg.Listen = c.listen
	}
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// newLogger returns the structured logger that cfg asks for, writing to w.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level)) // validated already
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
