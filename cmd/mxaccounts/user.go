package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/server"
)

const userUsage = `usage:
  mxaccounts user create NAME [--admin] [--password-file FILE] [--print-token] [flags]
  mxaccounts user list [--all] [--guests] [--deactivated] [--locked] [--admins true|false]
                       [--name TEXT] [--limit N] [--json] [flags]
  mxaccounts user show USER [--json] [flags]
  mxaccounts user passwd USER [--password-file FILE] [--keep-devices] [flags]
  mxaccounts user deactivate USER [--erase] [flags]
  mxaccounts user lock|unlock|suspend|unsuspend USER [flags]
flags: --config FILE, --data DIR
USER is a user ID (@alice:example.org) or a localpart (alice). A password comes from
--password-file, from a prompt on a terminal, or from the first line of standard
input; never from the command line.`

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer,
) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", userUsage)
	}
	if args[0] != "create" {
		return runUserAdmin(ctx, args, stdin, stdout, stderr)
	}
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return fmt.Errorf("user create needs the NAME first\n%s", userUsage)
	}
	name := args[1]

	var (
		c                 commonFlags
		admin, printToken bool
		passwordFile      string
	)
	fs := newFlagSet("user create", stderr, &c, false)
	fs.BoolVar(&admin, "admin", false, "make the user a server admin")
	fs.StringVar(&passwordFile, "password-file", "", "read the password from `file`")
	fs.BoolVar(&printToken, "print-token", false, "also log in and print an access token")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	pw, err := readPassword(passwordFile, stdin, stderr)
	if err != nil {
		return err
	}

	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	appServices, err := server.LoadAppServices(cfg)
	if err != nil {
		return err
	}
	accounts := server.NewServices(st, cfg, appServices).Accounts

	reg, err := accounts.CreateUser(ctx, account.NewUser{Username: name, Password: pw,
		Admin: admin, Login: printToken})
	recordCLI(ctx, st, audit.Event{Action: audit.ActionRegister, Target: registeredID(reg),
		Details: map[string]any{"kind": "cli", "admin": admin}}, err)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, reg.UserID)
	if reg.Login != nil {
		fmt.Fprintln(stdout, reg.Login.AccessToken)
	}
	return nil
}

// readPassword reads the password from file, from a terminal prompt (asked twice), or
// from the first line of stdin.
func readPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}

	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", fmt.Errorf("the passwords differ")
		}
		return string(first), nil
	}

	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
