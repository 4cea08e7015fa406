package access

import (
	"context"
	"testing"
	"time"
)

// TestCountHolders counts the active accounts that hold a permission on a
// site now: a grant on the site or on "*" counts, another site's or an
// expired or future grant does not, nor a deactivated account; site ""
// counts the holders on every site.
func TestCountHolders(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	now := e.clk.Now()
	count := func(site string) int {
		t.Helper()
		n, err := e.s.CountHolders(ctx, HandleRequests, site)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("hq"); n != 0 {
		t.Fatalf("no one holds handle-requests yet, counted %d", n)
	}
	e.addUser(t, "kim", Grant{Role: Manager, Sites: []string{"hq"}})
	e.addUser(t, "lee", Grant{Role: Manager, Sites: []string{"*"}})
	e.addUser(t, "park", Grant{Role: Manager, Sites: []string{"branch"}})
	e.addUser(t, "choi", Grant{Role: Staff, Sites: []string{"hq"}}) // staff: no handle-requests
	e.addUser(t, "old", Grant{Role: Manager, Sites: []string{"hq"}, ValidUntil: now.Add(time.Hour)})
	e.addUser(t, "new", Grant{Role: Manager, Sites: []string{"hq"}, ValidFrom: now.Add(2 * time.Hour)})
	e.addUser(t, "gone", Grant{Role: Manager, Sites: []string{"hq"}})
	if err := e.s.Deactivate(ctx, e.admin, "gone", Retirement, ""); err != nil {
		t.Fatal(err)
	}
	if n := count("hq"); n != 3 { // kim, lee, old
		t.Errorf("hq: %d holders, want 3 (kim, lee on *, old still valid)", n)
	}
	if n := count("branch"); n != 2 {
		t.Errorf("branch: %d holders, want 2 (park, lee on *)", n)
	}
	if n := count(""); n != 1 {
		t.Errorf("every site: %d holders, want 1 (lee on *)", n)
	}
	e.clk.Advance(3 * time.Hour) // old's grant ended, new's began
	if n := count("hq"); n != 3 {
		t.Errorf("hq later: %d holders, want 3 (kim, lee, new)", n)
	}
}
