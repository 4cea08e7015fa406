// Package accesstest is the conformance suite every access.Store must pass
// (SQLite now; PostgreSQL later). A store's own test calls Run with a
// constructor of fresh, empty stores.
package accesstest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
)

// T0 is the suite's reference time.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Run checks a Store implementation. newStore returns a fresh, empty store
// that the suite closes.
func Run(t *testing.T, newStore func(t *testing.T) access.Store) {
	ctx := context.Background()
	grants := []access.Grant{
		{Role: access.Manager, Title: "운영 책임자(정)", Sites: []string{"hq", "branch"}},
		{Role: access.Auditor, Sites: []string{"*"}, Perms: access.Set(access.ReadLedger, access.Playback),
			ValidFrom: T0, ValidUntil: T0.Add(24 * time.Hour)},
	}
	open := func(t *testing.T) access.Store {
		s := newStore(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	insert := func(t *testing.T, s access.Store, name string, gs []access.Grant) int64 {
		t.Helper()
		id, err := s.InsertAccount(ctx, name, name+" 씨", "$argon2id$hash-of-"+name, T0, gs)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	sameGrants := func(a, b []access.Grant) bool {
		return slices.EqualFunc(a, b, func(x, y access.Grant) bool {
			return x.Role == y.Role && x.Title == y.Title && slices.Equal(x.Sites, y.Sites) && x.Perms == y.Perms &&
				x.ValidFrom.Equal(y.ValidFrom) && x.ValidUntil.Equal(y.ValidUntil)
		})
	}

	// A store that says it can watch for changes tells a write from
	// another handle of it at the next question, and only once.
	t.Run("ChangeWatch", func(t *testing.T) {
		s := open(t)
		cw, ok := s.(access.ChangeWatcher)
		if !ok {
			t.Skip("the store does not watch for changes; the gate re-reads it every tick")
		}
		w, err := cw.WatchChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if w.Changed() {
			t.Errorf("changed before any write")
		}
		id := insert(t, s, "watched", nil)
		if !w.Changed() {
			t.Errorf("an account was inserted and the watch did not see it")
		}
		if w.Changed() {
			t.Errorf("the same change was reported twice")
		}
		if err := s.Deactivate(ctx, id, "퇴직", T0); err != nil {
			t.Fatal(err)
		}
		if !w.Changed() {
			t.Errorf("a deactivation was not seen")
		}
	})

	t.Run("Accounts", func(t *testing.T) {
		s := open(t)
		if n, err := s.CountAccounts(ctx); err != nil || n != 0 {
			t.Fatalf("fresh store counts %d accounts: %v", n, err)
		}
		id := insert(t, s, "kim", grants)
		insert(t, s, "an", nil)
		if _, err := s.InsertAccount(ctx, "kim", "", "x", T0, nil); !errs.Is(err, errs.Exist) {
			t.Fatalf("second kim: %v", err)
		}
		a, err := s.AccountByName(ctx, "kim")
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != id || a.Name != "kim" || a.Display != "kim 씨" || a.PasswordHash != "$argon2id$hash-of-kim" || !a.Active ||
			!a.MustChangePassword || a.TOTP || !a.Created.Equal(T0) || !sameGrants(a.Grants, grants) {
			t.Fatalf("account as read: %+v", a)
		}
		if b, err := s.AccountByID(ctx, id); err != nil || b.Name != "kim" || !sameGrants(b.Grants, grants) {
			t.Fatalf("by id: %+v %v", b, err)
		}
		if _, err := s.AccountByName(ctx, "nobody"); !errs.Is(err, errs.NotExist) {
			t.Fatalf("unknown name: %v", err)
		}
		if _, err := s.AccountByID(ctx, id+100); !errs.Is(err, errs.NotExist) {
			t.Fatalf("unknown id: %v", err)
		}
		us, err := s.Accounts(ctx)
		if err != nil || len(us) != 2 || us[0].Name != "an" || us[1].Name != "kim" || !sameGrants(us[1].Grants, grants) {
			t.Fatalf("list: %+v %v", us, err)
		}
		if n, _ := s.CountAccounts(ctx); n != 2 {
			t.Fatalf("count %d", n)
		}
	})

	t.Run("GrantsPasswordDeactivate", func(t *testing.T) {
		s := open(t)
		id := insert(t, s, "lee", grants)
		other := insert(t, s, "park", grants)
		if err := s.SetGrants(ctx, id, grants[:1]); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.AccountByID(ctx, id); !sameGrants(a.Grants, grants[:1]) {
			t.Fatalf("grants after SetGrants: %+v", a.Grants)
		}
		if err := s.SetPassword(ctx, id, "new-hash", false); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.AccountByID(ctx, id); a.PasswordHash != "new-hash" || a.MustChangePassword {
			t.Fatalf("after SetPassword: %+v", a)
		}
		if err := s.SetTOTP(ctx, id, []byte("secret"), []byte("pending"), 7); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertSession(ctx, access.SessionRecord{IDHash: []byte("s1"), AccountID: id, CSRF: "c", Created: T0, Last: T0}); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertSession(ctx, access.SessionRecord{IDHash: []byte("s2"), AccountID: other, CSRF: "c", Created: T0, Last: T0}); err != nil {
			t.Fatal(err)
		}
		at := T0.Add(time.Hour)
		if err := s.Deactivate(ctx, id, "퇴직", at); err != nil {
			t.Fatal(err)
		}
		a, _ := s.AccountByID(ctx, id)
		if a.Active || a.DeactivateReason != "퇴직" || !a.DeactivatedAt.Equal(at) || len(a.Grants) != 0 || a.TOTP || len(a.TOTPPending) != 0 {
			t.Fatalf("after Deactivate: %+v", a)
		}
		if r, _ := s.Session(ctx, []byte("s1")); r != nil {
			t.Fatal("a session of a deactivated account survived")
		}
		if r, _ := s.Session(ctx, []byte("s2")); r == nil {
			t.Fatal("another account's session was deleted")
		}
		if b, _ := s.AccountByID(ctx, other); !b.Active || !sameGrants(b.Grants, grants) {
			t.Fatalf("another account changed: %+v", b)
		}
	})

	t.Run("Lang", func(t *testing.T) {
		s := open(t)
		kim := insert(t, s, "kim", nil)
		an := insert(t, s, "an", nil)
		if a, _ := s.AccountByID(ctx, kim); a.Lang != "" {
			t.Fatalf("a new account's language is %q, want unchosen", a.Lang)
		}
		if err := s.SetLang(ctx, kim, "en"); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.AccountByName(ctx, "kim"); a.Lang != "en" {
			t.Fatalf("kim's language after SetLang: %q", a.Lang)
		}
		if a, _ := s.AccountByID(ctx, an); a.Lang != "" {
			t.Fatalf("an's language changed with kim's: %q", a.Lang)
		}
		us, _ := s.Accounts(ctx)
		if len(us) != 2 || us[1].Name != "kim" || us[1].Lang != "en" {
			t.Fatalf("list: %+v", us)
		}
		// Other writes keep it.
		if err := s.SetPassword(ctx, kim, "$argon2id$new", false); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.AccountByID(ctx, kim); a.Lang != "en" {
			t.Fatalf("language after a password change: %q", a.Lang)
		}
		if err := s.SetLang(ctx, kim+an+100, "en"); !errs.Is(err, errs.NotExist) {
			t.Fatalf("SetLang of no account: %v", err)
		}
	})

	t.Run("TOTP", func(t *testing.T) {
		s := open(t)
		id := insert(t, s, "oh", nil)
		if err := s.SetTOTP(ctx, id, nil, []byte("pending"), 0); err != nil {
			t.Fatal(err)
		}
		a, _ := s.AccountByID(ctx, id)
		if a.TOTP || !bytes.Equal(a.TOTPPending, []byte("pending")) {
			t.Fatalf("pending: %+v", a)
		}
		if err := s.SetTOTP(ctx, id, []byte("secret"), nil, 42); err != nil {
			t.Fatal(err)
		}
		a, _ = s.AccountByID(ctx, id)
		if !a.TOTP || !bytes.Equal(a.TOTPSecret, []byte("secret")) || len(a.TOTPPending) != 0 || a.TOTPLastStep != 42 {
			t.Fatalf("on: %+v", a)
		}
	})

	t.Run("Failures", func(t *testing.T) {
		s := open(t)
		id := insert(t, s, "kang", nil)
		other := insert(t, s, "yun", nil)
		f := access.Failures{Count: 3, WindowStart: T0, LockedUntil: T0.Add(time.Minute)}
		if err := s.SetFailures(ctx, id, f); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.AccountByID(ctx, id); a.Failures.Count != 3 || !a.Failures.WindowStart.Equal(T0) || !a.Failures.LockedUntil.Equal(f.LockedUntil) {
			t.Fatalf("account failures: %+v", a.Failures)
		}
		if g, err := s.ClientFailures(ctx, id, "192.0.2.1"); err != nil || g != (access.Failures{}) {
			t.Fatalf("no failures yet from an address: %+v %v", g, err)
		}
		for _, c := range []string{"192.0.2.1", "2001:db8::1", ""} {
			if err := s.SetClientFailures(ctx, id, c, access.Failures{Count: 2, WindowStart: T0}); err != nil {
				t.Fatal(err)
			}
		}
		f2 := access.Failures{Count: 5, WindowStart: T0, LockedUntil: T0.Add(time.Hour)}
		if err := s.SetClientFailures(ctx, id, "192.0.2.1", f2); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.ClientFailures(ctx, id, "192.0.2.1"); g.Count != 5 || !g.LockedUntil.Equal(f2.LockedUntil) {
			t.Fatalf("updated pair: %+v", g)
		}
		if g, _ := s.ClientFailures(ctx, id, "2001:db8::1"); g.Count != 2 {
			t.Fatalf("another address of the account: %+v", g)
		}
		if g, _ := s.ClientFailures(ctx, other, "192.0.2.1"); g.Count != 0 {
			t.Fatalf("another account from the address: %+v", g)
		}
		if err := s.SetClientFailures(ctx, id, "", access.Failures{}); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.ClientFailures(ctx, id, ""); g.Count != 0 {
			t.Fatalf("cleared pair: %+v", g)
		}
		if err := s.ClearFailures(ctx, id); err != nil {
			t.Fatal(err)
		}
		a, _ := s.AccountByID(ctx, id)
		g, _ := s.ClientFailures(ctx, id, "2001:db8::1")
		if a.Failures != (access.Failures{}) || g.Count != 0 {
			t.Fatalf("after ClearFailures: %+v %+v", a.Failures, g)
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		s := open(t)
		id := insert(t, s, "seo", nil)
		for i, h := range []string{"a", "b", "c"} {
			r := access.SessionRecord{IDHash: []byte(h), AccountID: id, CSRF: "csrf-" + h, Created: T0.Add(time.Duration(i) * time.Hour),
				Last: T0.Add(time.Duration(i) * time.Hour), Client: "192.0.2.1"}
			if err := s.InsertSession(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Session(ctx, []byte("b"))
		if err != nil || r == nil || r.AccountID != id || r.CSRF != "csrf-b" || !r.Created.Equal(T0.Add(time.Hour)) || r.Client != "192.0.2.1" {
			t.Fatalf("session b: %+v %v", r, err)
		}
		if r, err := s.Session(ctx, []byte("zz")); r != nil || err != nil {
			t.Fatalf("unknown session: %+v %v", r, err)
		}
		if err := s.TouchSession(ctx, []byte("a"), T0.Add(5*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Session(ctx, []byte("a")); !r.Last.Equal(T0.Add(5 * time.Hour)) {
			t.Fatalf("touched: %+v", r)
		}
		// b is idle since T0+1h; a was created before T0+30m.
		if err := s.DeleteStaleSessions(ctx, T0.Add(90*time.Minute), T0.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountSessions(ctx); n != 1 {
			t.Fatalf("%d sessions after DeleteStaleSessions, want 1 (c)", n)
		}
		s.InsertSession(ctx, access.SessionRecord{IDHash: []byte("d"), AccountID: id, Created: T0, Last: T0})
		if err := s.DeleteSessionsOf(ctx, id, []byte("d")); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Session(ctx, []byte("d")); r == nil {
			t.Fatal("DeleteSessionsOf deleted the session it was to keep")
		}
		if n, _ := s.CountSessions(ctx); n != 1 {
			t.Fatalf("%d sessions after DeleteSessionsOf", n)
		}
		if err := s.DeleteSession(ctx, []byte("d")); err != nil {
			t.Fatal(err)
		}
		s.InsertSession(ctx, access.SessionRecord{IDHash: []byte("e"), AccountID: id, Created: T0, Last: T0})
		if err := s.DeleteAllSessionsOf(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountSessions(ctx); n != 0 {
			t.Fatalf("%d sessions after DeleteAllSessionsOf", n)
		}
	})
}
