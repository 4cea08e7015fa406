package access

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// TestResetPassword: a reset ends every session, lifts a lockout, and
// leaves only a one-time password that must be changed; it needs
// ManageUsers and is ledgered.
func TestResetPassword(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFailures, c.FailureWindow, c.LockoutDuration = 3, time.Minute, time.Hour })
	ctx := context.Background()
	tok, p := e.addUser(t, "park", Grant{Role: Authorized, Sites: []string{"main"}})
	for i := 0; i < 3; i++ {
		e.s.Login(ctx, "park", "wrong-pass-1", "", netip.Addr{})
	}
	if _, err := e.s.Login(ctx, "park", "Blue-river-42", "", netip.Addr{}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("not locked: %v", err)
	}
	if _, err := e.s.ResetPassword(ctx, p, "park"); !errs.Is(err, errs.Permission) {
		t.Fatalf("reset by a user without manage-users: %v", err)
	}
	otp, err := e.s.ResetPassword(ctx, e.admin, "park")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(ctx, tok, netip.Addr{}); err == nil {
		t.Error("a session survived the reset")
	}
	if _, err := e.s.Login(ctx, "park", "Blue-river-42", "", netip.Addr{}); !errors.Is(err, ErrBadLogin) {
		t.Errorf("old password still works: %v", err)
	}
	sess, err := e.s.Login(ctx, "park", otp, "", netip.Addr{})
	if err != nil {
		t.Fatalf("one-time password refused (lockout not lifted?): %v", err)
	}
	if !sess.Principal.MustChangePassword {
		t.Error("the one-time password need not be changed")
	}
	found := false
	for _, en := range e.entries(t, ledger.UserChange) {
		if en.Object == "user park" && strings.Contains(en.Detail, "password reset") {
			found = true
			if strings.Contains(en.Detail, otp) {
				t.Error("the password is in the ledger")
			}
		}
	}
	if !found {
		t.Error("reset not ledgered")
	}
	if err := e.s.Deactivate(ctx, e.admin, "park", Retirement, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ResetPassword(ctx, e.admin, "park"); !errs.Is(err, errs.Invalid) {
		t.Errorf("reset of a deactivated user: %v", err)
	}
}
