package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/account"
	"github.com/mxaccounts/mxaccounts/internal/audit"
	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/password"
	"github.com/mxaccounts/mxaccounts/internal/server"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/useradmin"
	"github.com/mxaccounts/mxaccounts/mxerr"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// adminCmd is what the user commands other than create share: their flags and, once
// parsed, the configuration and the services over an open store.
type adminCmd struct {
	name   string
	common commonFlags
	fs     *flag.FlagSet
	cfg    *config.Config
	st     store.Store
	admin  *useradmin.Service
}

// runUserAdmin runs "user list|show|passwd|deactivate|lock|unlock|suspend|unsuspend".
func runUserAdmin(ctx context.Context, args []string, stdin io.Reader,
	stdout, stderr io.Writer,
) error {
	ac := &adminCmd{name: args[0]}
	ac.fs = newFlagSet("user "+args[0], stderr, &ac.common, false)
	rest := args[1:]

	switch ac.name {
	case "list":
		return ac.list(ctx, rest, stdout)
	case "show":
		return ac.show(ctx, rest, stdout)
	case "passwd":
		return ac.passwd(ctx, rest, stdin, stdout, stderr)
	case "deactivate":
		return ac.deactivate(ctx, rest, stdout)
	case "lock", "unlock", "suspend", "unsuspend":
		return ac.moderate(ctx, rest, stdout)
	}
	return fmt.Errorf("unknown user command %q\n%s", ac.name, userUsage)
}

// open parses args, which hold the flags and, when withUser, the USER first, and opens
// the store and the services. The caller calls the returned close.
func (ac *adminCmd) open(ctx context.Context, args []string, withUser bool) (
	mxid.UserID, func(), error,
) {
	var raw string
	if withUser {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return "", nil, fmt.Errorf("user %s needs the USER first\n%s", ac.name, userUsage)
		}
		raw, args = args[0], args[1:]
	}
	if err := ac.fs.Parse(args); err != nil {
		return "", nil, err
	}
	if ac.fs.NArg() > 0 {
		// Above all, a password typed here would end up in the shell history.
		return "", nil, fmt.Errorf("unexpected argument %q\n%s", ac.fs.Arg(0), userUsage)
	}
	cfg, err := ac.common.loadConfig()
	if err != nil {
		return "", nil, err
	}

	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	appServices, err := server.LoadAppServices(cfg)
	if err != nil {
		st.Close()
		return "", nil, err
	}
	ac.cfg, ac.st = cfg, st
	ac.admin = server.NewServices(st, cfg, appServices).UserAdmin

	var user mxid.UserID
	if withUser {
		if user, err = ac.user(raw); err != nil {
			st.Close()
			return "", nil, err
		}
	}
	return user, func() { st.Close() }, nil
}

// user reads USER: a user ID of this server, or a localpart.
func (ac *adminCmd) user(raw string) (mxid.UserID, error) {
	if strings.HasPrefix(raw, "@") {
		return ac.admin.LocalUser(raw)
	}
	return ac.admin.LocalUser(mxid.NewUserID(strings.ToLower(raw), ac.cfg.ServerName).String())
}

// record audits a command that ended with err: the actor is the command line, the
// action the one the admin API gives the same change.
func (ac *adminCmd) record(ctx context.Context, action string, user mxid.UserID,
	details map[string]any, err error,
) {
	recordCLI(ctx, ac.st, audit.Event{Action: action, Target: user, Details: details}, err)
}

// recordCLI audits an action of the command line that ended with err. A failure to
// store the event is printed to stderr.
func recordCLI(ctx context.Context, st store.Store, e audit.Event, err error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		Level: slog.LevelError}))
	e.Actor, e.Outcome = audit.ActorCLI, audit.Success
	if err != nil {
		e.Outcome = audit.Failure
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		var me *mxerr.Error
		if errors.As(err, &me) {
			e.Details["errcode"] = string(me.Code)
		}
	}
	audit.NewRecorder(st, log).Record(ctx, e)
}

// registeredID returns the user ID of reg, "" for none.
func registeredID(reg *account.Registered) mxid.UserID {
	if reg == nil {
		return ""
	}
	return reg.UserID
}

// list prints the accounts, by default those the admin API lists by default but with
// guests left out: active, unlocked users.
func (ac *adminCmd) list(ctx context.Context, args []string, stdout io.Writer) error {
	var (
		f      store.AccountFilter
		all    bool
		admins string
		asJSON bool
	)
	ac.fs.BoolVar(&all, "all", false, "list every account: guests, deactivated and locked too")
	ac.fs.BoolVar(&f.Guests, "guests", false, "include guests")
	ac.fs.BoolVar(&f.Deactivated, "deactivated", false, "include deactivated accounts")
	ac.fs.BoolVar(&f.Locked, "locked", false, "include locked accounts")
	ac.fs.StringVar(&admins, "admins", "", "only admins (true) or only non-admins (false)")
	ac.fs.StringVar(&f.LocalpartContains, "name", "", "only localparts containing `text`")
	ac.fs.Int64Var(&f.Limit, "limit", 0, "list at most `n` accounts (0: all)")
	ac.fs.BoolVar(&asJSON, "json", false, "print JSON, one object per account")
	_, done, err := ac.open(ctx, args, false)
	if err != nil {
		return err
	}
	defer done()

	if all {
		f.Guests, f.Deactivated, f.Locked = true, true, true
	}
	if admins != "" {
		b, err := strconv.ParseBool(admins)
		if err != nil {
			return fmt.Errorf("--admins %q: want true or false", admins)
		}
		f.Admins = &b
	}
	users, _, err := ac.admin.List(ctx, f)
	ac.record(ctx, "admin.users.list", "", nil, err)
	if err != nil {
		return err
	}

	if asJSON {
		enc := json.NewEncoder(stdout)
		for i := range users {
			if err := enc.Encode(accountJSON(&users[i])); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER ID\tKIND\tADMIN\tCREATED\tSTATE")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\n", u.UserID, kind(&u), u.Admin,
			formatMS(u.CreatedMS), state(&u))
	}
	return tw.Flush()
}

// kind names the kind of an account, with its user type.
func kind(a *store.AccountDetails) string {
	if a.UserType != "" {
		return string(a.Kind) + "/" + a.UserType
	}
	return string(a.Kind)
}

// state lists the marks of an account: deactivated, erased, locked, suspended, or
// active.
func state(a *store.AccountDetails) string {
	var marks []string
	for _, m := range []struct {
		on   bool
		name string
	}{{a.Deactivated, "deactivated"}, {a.Erased, "erased"}, {a.Locked, "locked"},
		{a.Suspended, "suspended"}} {
		if m.on {
			marks = append(marks, m.name)
		}
	}
	if len(marks) == 0 {
		return "active"
	}
	return strings.Join(marks, ",")
}

// formatMS prints a time in milliseconds as RFC 3339 in UTC, "-" for 0 (never).
func formatMS(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// accountJSON is an account as list --json and show --json print it.
func accountJSON(a *store.AccountDetails) map[string]any {
	return map[string]any{"user_id": a.UserID, "kind": a.Kind, "admin": a.Admin,
		"user_type": a.UserType, "created_ms": a.CreatedMS, "last_seen_ms": a.LastSeenMS,
		"deactivated": a.Deactivated, "erased": a.Erased, "locked": a.Locked,
		"suspended": a.Suspended, "appservice_id": a.AppServiceID}
}

// show prints one account with its 3PIDs and devices.
func (ac *adminCmd) show(ctx context.Context, args []string, stdout io.Writer) error {
	var asJSON bool
	ac.fs.BoolVar(&asJSON, "json", false, "print JSON")
	user, done, err := ac.open(ctx, args, true)
	if err != nil {
		return err
	}
	defer done()

	u, err := ac.admin.User(ctx, user)
	var devs []store.Device
	if err == nil {
		devs, err = ac.admin.Devices(ctx, user)
	}
	ac.record(ctx, "admin.user.query", user, nil, err)
	if err != nil {
		return err
	}

	if asJSON {
		out := accountJSON(&u.AccountDetails)
		out["threepids"], out["devices"] = u.ThreePIDs, devs
		return json.NewEncoder(stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "user_id:\t%s\nkind:\t%s\nadmin:\t%t\ncreated:\t%s\nlast seen:\t%s\n",
		u.UserID, kind(&u.AccountDetails), u.Admin, formatMS(u.CreatedMS),
		formatMS(u.LastSeenMS))
	fmt.Fprintf(tw, "state:\t%s\n", state(&u.AccountDetails))
	for _, p := range u.ThreePIDs {
		fmt.Fprintf(tw, "3pid:\t%s %s (added %s)\n", p.Medium, p.Address, formatMS(p.AddedMS))
	}
	for _, d := range devs {
		fmt.Fprintf(tw, "device:\t%s last seen %s from %s\n", d.DeviceID,
			formatMS(d.LastSeenMS), orDash(d.LastSeenIP))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// passwd sets a user's password, read as user create reads it, and ends the user's
// sessions unless --keep-devices. The password policy applies, as it does to create.
func (ac *adminCmd) passwd(ctx context.Context, args []string, stdin io.Reader,
	stdout, stderr io.Writer,
) error {
	var (
		passwordFile string
		keep         bool
	)
	ac.fs.StringVar(&passwordFile, "password-file", "", "read the password from `file`")
	ac.fs.BoolVar(&keep, "keep-devices", false, "keep the user's sessions")
	user, done, err := ac.open(ctx, args, true)
	if err != nil {
		return err
	}
	defer done()

	pw, err := readPassword(passwordFile, stdin, stderr)
	if err != nil {
		return err
	}
	err = password.Policy(ac.cfg.Passwords.Policy).Check(pw, user.Localpart(),
		ac.cfg.ServerName)
	if err == nil {
		err = ac.admin.ResetPassword(ctx, useradmin.Actor{}, user, pw, !keep)
	}
	ac.record(ctx, "admin.user.reset_password", user,
		map[string]any{"logout_devices": !keep}, err)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: password changed\n", user)
	return nil
}

// deactivate deactivates a user for good.
func (ac *adminCmd) deactivate(ctx context.Context, args []string, stdout io.Writer) error {
	var erase bool
	ac.fs.BoolVar(&erase, "erase", false, "also mark the account erased (GDPR)")
	user, done, err := ac.open(ctx, args, true)
	if err != nil {
		return err
	}
	defer done()

	result, err := ac.admin.Deactivate(ctx, user, erase)
	ac.record(ctx, "admin.user.deactivate", user, map[string]any{"erase": erase,
		"id_server_unbind_result": result}, err)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: deactivated (identity-server unbind: %s)\n", user, result)
	return nil
}

// moderate runs lock, unlock, suspend and unsuspend.
func (ac *adminCmd) moderate(ctx context.Context, args []string, stdout io.Writer) error {
	user, done, err := ac.open(ctx, args, true)
	if err != nil {
		return err
	}
	defer done()

	var action string
	switch ac.name {
	case "lock", "unlock":
		locked := ac.name == "lock"
		err = ac.admin.SetLocked(ctx, user, locked)
		action = "admin.user.lock"
		ac.record(ctx, action, user, map[string]any{"locked": locked}, err)
	default:
		suspended := ac.name == "suspend"
		err = ac.admin.SetSuspended(ctx, user, suspended)
		action = "admin.user.suspend"
		ac.record(ctx, action, user, map[string]any{"suspended": suspended}, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %sed\n", user, strings.TrimSuffix(ac.name, "e"))
	return nil
}
