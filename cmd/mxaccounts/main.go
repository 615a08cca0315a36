// Command mxaccounts serves the Matrix account-management API and administers its store.
//
//	mxaccounts serve   [--config FILE] [--data DIR] [--listen ADDR]
//	mxaccounts migrate [--config FILE] [--data DIR]
//	mxaccounts token create|list|update|delete ...
//	mxaccounts user create NAME [--admin] [--password-file FILE] [--print-token]
//	mxaccounts user list|show|passwd|deactivate|lock|unlock|suspend|unsuspend ...
//	mxaccounts version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package printed the usage asked for
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mxaccounts:", err)
		os.Exit(1)
	}
}

const usage = `usage: mxaccounts COMMAND [flags]

commands:
  serve          run the server
  migrate        apply pending database migrations and exit
  token          create, list, update or delete registration tokens
  user create    create a user (optionally an admin) without registration
  user list|show|passwd|deactivate|lock|unlock|suspend|unsuspend
                 inspect and administer accounts
  version        print the version

Run "mxaccounts COMMAND -h" for the flags of a command.
`

// run dispatches to the command that args name.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}

	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stderr)
	case "token":
		return runToken(ctx, args[1:], stdout, stderr)
	case "user":
		return runUser(ctx, args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "mxaccounts", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
