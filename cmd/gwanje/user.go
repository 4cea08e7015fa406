package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/ledger"
)

func init() {
	register(command{name: "user", summary: "add, deactivate (전보/퇴직) or list users", run: runUser})
}

const userUsage = `usage:
  gwanje user add [-data DIR] -role admin|manager|authorized|staff|auditor -sites ID,...|* [-title T] [-display NAME]
                  [-from DATE] [-until DATE] NAME
  gwanje user deactivate [-data DIR] -reason transfer|retirement|other [-note TEXT] NAME
  gwanje user reset-password [-data DIR] [-totp] NAME
  gwanje user list [-data DIR]`

// openAccess opens the ledger and the access service of a data directory
// for a local operator.
func openAccess(ctx context.Context, data string) (*access.Service, *ledger.Ledger, *access.Principal, error) {
	quiet := slog.New(slog.DiscardHandler)
	lo, err := ledgerOptions(data, quiet)
	if err != nil {
		return nil, nil, nil, err
	}
	l, err := ledger.Open(ctx, lo)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := access.Open(ctx, access.Config{Dir: data, Ledger: l, Logger: quiet})
	if err != nil {
		l.Close()
		return nil, nil, nil, err
	}
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return s, l, s.Operator(name), nil
}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, userUsage, stderr); err != nil {
		return err
	}
	fl := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", defaultDataDir(), "data directory (env GWANJE_DATA_DIR)")
	switch args[0] {
	case "add":
		role := fl.String("role", "", "role: admin, manager, authorized, staff, auditor (or the Korean name)")
		sites := fl.String("sites", "", "comma-separated site ids, or * for every site")
		title := fl.String("title", "", "title as the policy names it, e.g. 운영 책임자(부)")
		display := fl.String("display", "", "real name written to the ledger")
		from := fl.String("from", "", "grant valid from (YYYY-MM-DD, KST)")
		until := fl.String("until", "", "grant valid until, exclusive (YYYY-MM-DD, KST)")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		if fl.NArg() != 1 || *role == "" || *sites == "" {
			return usageError{userUsage}
		}
		r, err := access.ParseRole(*role)
		if err != nil {
			return usageError{err.Error()}
		}
		g := access.Grant{Role: r, Title: *title, Sites: strings.Split(*sites, ",")}
		if g.ValidFrom, err = parseDay("from", *from); err != nil {
			return err
		}
		if g.ValidUntil, err = parseDay("until", *until); err != nil {
			return err
		}
		s, l, op, err := openAccess(ctx, *data)
		if err != nil {
			return err
		}
		defer l.Close()
		defer s.Close()
		u, pw, err := s.CreateUser(ctx, op, fl.Arg(0), *display, []access.Grant{g})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s, %s on %s)\none-time password (shown once; must be changed at first login): %s\n",
			u.Name, u.Display, r.Korean(), *sites, pw)
		return nil
	case "deactivate":
		reason := fl.String("reason", "", "transfer (전보), retirement (퇴직) or other (기타)")
		note := fl.String("note", "", "free text for the ledger")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		if fl.NArg() != 1 || *reason == "" {
			return usageError{userUsage}
		}
		r, err := access.ParseReason(*reason)
		if err != nil {
			return usageError{err.Error()}
		}
		s, l, op, err := openAccess(ctx, *data)
		if err != nil {
			return err
		}
		defer l.Close()
		defer s.Close()
		if err := s.Deactivate(ctx, op, fl.Arg(0), r, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deactivated %s (%s): grants removed, every session ended\n", fl.Arg(0), r)
		return nil
	case "reset-password":
		totp := fl.Bool("totp", false, "also remove the user's authenticator app (a lost phone)")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		if fl.NArg() != 1 {
			return usageError{userUsage}
		}
		s, l, op, err := openAccess(ctx, *data)
		if err != nil {
			return err
		}
		defer l.Close()
		defer s.Close()
		if *totp {
			if err := s.RemoveTOTPOf(ctx, op, fl.Arg(0)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: authenticator removed\n", fl.Arg(0))
		}
		pw, err := s.ResetPassword(ctx, op, fl.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reset %s: every session ended, lockout lifted\none-time password (shown once; must be changed at next login): %s\n",
			fl.Arg(0), pw)
		return nil
	case "list":
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		s, l, op, err := openAccess(ctx, *data)
		if err != nil {
			return err
		}
		defer l.Close()
		defer s.Close()
		us, err := s.Users(ctx, op)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDISPLAY\tSTATE\tGRANTS")
		for _, u := range us {
			state := "active"
			if !u.Active {
				state = "deactivated (" + u.DeactivateReason + ")"
			} else if u.MustChangePassword {
				state = "active, must change password"
			}
			var gs []string
			for _, g := range u.Grants {
				desc := fmt.Sprintf("%s@%s", g.Role.Korean(), strings.Join(g.Sites, ","))
				if !g.ValidUntil.IsZero() {
					desc += " until " + g.ValidUntil.Format(time.DateOnly)
				}
				gs = append(gs, desc)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Display, state, strings.Join(gs, "; "))
		}
		return tw.Flush()
	}
	return usageError{fmt.Sprintf("unknown user command %q\n%s", args[0], userUsage)}
}
