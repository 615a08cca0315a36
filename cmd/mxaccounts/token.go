package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/regtoken"
	"github.com/mxaccounts/mxaccounts/internal/server"
	"github.com/mxaccounts/mxaccounts/internal/store"
)

const tokenUsage = `usage:
  mxaccounts token create [--uses N] [--expires DURATION] [--token T] [flags]
  mxaccounts token list   [--valid true|false] [--json] [flags]
  mxaccounts token update TOKEN [--uses N|--unlimited] [--expires DURATION|--never] [flags]
  mxaccounts token delete TOKEN [flags]
flags: --config FILE, --data DIR`

// tokenCmd is what every token subcommand shares.
type tokenCmd struct {
	common commonFlags
	fs     *flag.FlagSet
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", tokenUsage)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, tokenUsage)
		return nil
	}
	tc := &tokenCmd{}
	tc.fs = newFlagSet("token "+args[0], stderr, &tc.common, false)

	switch args[0] {
	case "create":
		return tc.create(ctx, args[1:], stdout)
	case "list":
		return tc.list(ctx, args[1:], stdout)
	case "update":
		return tc.update(ctx, args[1:], stdout)
	case "delete":
		return tc.delete(ctx, args[1:])
	}
	return fmt.Errorf("unknown token command %q\n%s", args[0], tokenUsage)
}

// open parses the flags and opens the token service; the caller closes the store.
func (tc *tokenCmd) open(ctx context.Context, args []string) (*regtoken.Service, func(),
	error) {
	if err := tc.fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg, err := tc.common.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return regtoken.New(st), func() { st.Close() }, nil
}

func (tc *tokenCmd) create(ctx context.Context, args []string, stdout io.Writer) error {
	var (
		uses    int64
		expires time.Duration
		tok     string
	)
	tc.fs.Int64Var(&uses, "uses", 0, "how many registrations the token allows (0: unlimited)")
	tc.fs.DurationVar(&expires, "expires", 0, "how long the token stays valid, e.g. 72h "+
		"(0: forever)")
	tc.fs.StringVar(&tok, "token", "", "the token to create (default: a random one)")
	svc, done, err := tc.open(ctx, args)
	if err != nil {
		return err
	}
	defer done()

	if uses < 0 || expires < 0 {
		return fmt.Errorf("--uses and --expires must not be negative")
	}
	n := regtoken.NewToken{Token: tok}
	if uses > 0 {
		n.UsesAllowed = &uses
	}
	if expires > 0 {
		ms := time.Now().Add(expires).UnixMilli()
		n.ExpiryMS = &ms
	}
	t, err := svc.Create(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, t.Token)
	return nil
}

func (tc *tokenCmd) list(ctx context.Context, args []string, stdout io.Writer) error {
	var (
		valid  string
		asJSON bool
	)
	tc.fs.StringVar(&valid, "valid", "", "list only valid (true) or invalid (false) tokens")
	tc.fs.BoolVar(&asJSON, "json", false, "print JSON, one object per token")
	svc, done, err := tc.open(ctx, args)
	if err != nil {
		return err
	}
	defer done()

	var filter *bool
	if valid != "" {
		b, err := strconv.ParseBool(valid)
		if err != nil {
			return fmt.Errorf("--valid %q: want true or false", valid)
		}
		filter = &b
	}
	tokens, err := svc.List(ctx, filter)
	if err != nil {
		return err
	}
	if asJSON {
		// The same fields as the admin API's token objects.
		enc := json.NewEncoder(stdout)
		for _, t := range tokens {
			err := enc.Encode(map[string]any{"token": t.Token, "uses_allowed": t.UsesAllowed,
				"pending": t.Pending, "completed": t.Completed, "expiry_time": t.ExpiryMS})
			if err != nil {
				return err
			}
		}
		return nil
	}
	return printTokens(stdout, tokens)
}

func printTokens(w io.Writer, tokens []store.RegistrationToken) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOKEN\tUSES ALLOWED\tPENDING\tCOMPLETED\tEXPIRES")
	for _, t := range tokens {
		uses, exp := "unlimited", "never"
		if t.UsesAllowed != nil {
			uses = strconv.FormatInt(*t.UsesAllowed, 10)
		}
		if t.ExpiryMS != nil {
			exp = time.UnixMilli(*t.ExpiryMS).UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", t.Token, uses, t.Pending, t.Completed, exp)
	}
	return tw.Flush()
}

func (tc *tokenCmd) update(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("token update needs the TOKEN\n%s", tokenUsage)
	}
	var (
		uses             int64
		expires          time.Duration
		unlimited, never bool
	)
	tc.fs.Int64Var(&uses, "uses", -1, "set the number of registrations the token allows")
	tc.fs.BoolVar(&unlimited, "unlimited", false, "allow unlimited registrations")
	tc.fs.DurationVar(&expires, "expires", 0, "make the token expire this long from now")
	tc.fs.BoolVar(&never, "never", false, "make the token never expire")
	svc, done, err := tc.open(ctx, args[1:])
	if err != nil {
		return err
	}
	defer done()

	u := regtoken.Update{ClearUsesAllowed: unlimited, ClearExpiry: never}
	if uses >= 0 {
		u.UsesAllowed = &uses
	}
	if expires > 0 {
		ms := time.Now().Add(expires).UnixMilli()
		u.ExpiryMS = &ms
	}
	t, err := svc.Update(ctx, args[0], u)
	if err != nil {
		return err
	}
	return printTokens(stdout, []store.RegistrationToken{*t})
}

func (tc *tokenCmd) delete(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("token delete needs the TOKEN\n%s", tokenUsage)
	}
	svc, done, err := tc.open(ctx, args[1:])
	if err != nil {
		return err
	}
	defer done()
	return svc.Delete(ctx, args[0])
}
