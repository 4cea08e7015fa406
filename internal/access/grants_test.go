package access

import (
	"context"
	"errors"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

// TestSiteAdminIsNotGlobal: an administrator granted only site "branch"
// cannot create anyone on "*" or on another site, cannot give itself "*",
// cannot hand out the administrative permissions beyond its own, and cannot
// deactivate, reset or regrant the global administrator or another site's
// people. Within its site it designates people as before.
func TestSiteAdminIsNotGlobal(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, branch := e.addUser(t, "branchadmin", Grant{Role: SystemAdmin, Sites: []string{"branch"}, Perms: Set(ManageUsers)})
	e.addUser(t, "hqstaff", Grant{Role: Staff, Sites: []string{"hq"}})
	e.addUser(t, "mixed", Grant{Role: Staff, Sites: []string{"branch"}}, Grant{Role: Auditor, Sites: []string{"hq"}})
	e.addUser(t, "branchstaff", Grant{Role: Staff, Sites: []string{"branch"}})

	code := func(err error) errs.Code { return errs.CodeOf(err) }
	cases := []struct {
		name string
		err  error
		kind errs.Kind
		code errs.Code
	}{
		{"create a manager on *", func() error {
			_, _, err := e.s.CreateUser(ctx, branch, "m1", "", []Grant{{Role: Manager, Sites: []string{"*"}}})
			return err
		}(), errs.Permission, "grant.site"},
		{"create a manager on hq", func() error {
			_, _, err := e.s.CreateUser(ctx, branch, "m2", "", []Grant{{Role: Manager, Sites: []string{"branch", "hq"}}})
			return err
		}(), errs.Permission, "grant.site"},
		{"create an admin with manage-registry", func() error {
			_, _, err := e.s.CreateUser(ctx, branch, "a1", "", []Grant{{Role: SystemAdmin, Sites: []string{"branch"}}})
			return err
		}(), errs.Permission, "grant.perm"},
		{"give itself *", e.s.SetGrants(ctx, branch, "branchadmin", []Grant{{Role: SystemAdmin, Sites: []string{"*"}}}),
			errs.Permission, "user.self_grants"},
		{"give itself branch again", e.s.SetGrants(ctx, branch, "branchadmin", []Grant{{Role: Manager, Sites: []string{"branch"}}}),
			errs.Permission, "user.self_grants"},
		{"deactivate the global admin", e.s.Deactivate(ctx, branch, "admin", Retirement, ""), errs.Permission, "user.beyond"},
		{"reset the global admin", func() error { _, err := e.s.ResetPassword(ctx, branch, "admin"); return err }(),
			errs.Permission, "user.beyond"},
		{"regrant the global admin", e.s.SetGrants(ctx, branch, "admin", []Grant{{Role: Staff, Sites: []string{"branch"}}}),
			errs.Permission, "user.beyond"},
		{"deactivate another site's staff", e.s.Deactivate(ctx, branch, "hqstaff", Transfer, ""), errs.Private, ""},
		{"regrant a user also granted on hq", e.s.SetGrants(ctx, branch, "mixed", []Grant{{Role: Staff, Sites: []string{"branch"}}}),
			errs.Permission, "user.beyond"},
		{"reset its own password", func() error { _, err := e.s.ResetPassword(ctx, branch, "branchadmin"); return err }(),
			errs.Permission, "user.self_reset"},
	}
	for _, c := range cases {
		if !errs.Is(c.err, c.kind) || (c.code != "" && code(c.err) != c.code) {
			t.Errorf("%s: %v (code %s), want %v %s", c.name, c.err, code(c.err), c.kind, c.code)
		}
	}
	// The global administrator kept its account and grant.
	if p := e.login(t, "admin", "Strong-pass-2026", ""); !p.holdsOn(ManageUsers, "*", e.clk.Now()) {
		t.Fatal("global admin lost its grant")
	}
	// Within its site it still designates and removes people.
	if _, _, err := e.s.CreateUser(ctx, branch, "viewer", "", []Grant{{Role: Authorized, Sites: []string{"branch"}}}); err != nil {
		t.Fatalf("designating a 접근권한자 of branch: %v", err)
	}
	if err := e.s.SetGrants(ctx, branch, "branchstaff", []Grant{{Role: Manager, Sites: []string{"branch"}}}); err != nil {
		t.Fatalf("regranting branch staff: %v", err)
	}
	if err := e.s.Deactivate(ctx, branch, "branchstaff", Transfer, ""); err != nil {
		t.Fatalf("deactivating branch staff: %v", err)
	}
	// It lists only the people of its site (and those granted everywhere,
	// who are people of its site too).
	us, err := e.s.Users(ctx, branch)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Name)
	}
	for _, n := range names {
		if n == "hqstaff" {
			t.Errorf("branch admin lists %q (all: %v)", n, names)
		}
	}
	// The global administrator may do all of it.
	if err := e.s.Deactivate(ctx, e.admin, "branchadmin", Retirement, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.s.SetGrants(ctx, e.admin, "admin", nil); !errors.Is(err, err) || errs.CodeOf(err) != "user.self_grants" {
		t.Fatalf("global admin edits its own grants: %v", err)
	}
}
