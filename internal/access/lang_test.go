package access

import (
	"context"
	"net/netip"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

// TestLangSurvivesSessionsAndRestart: a user's own language is kept with
// the account, so a later session, and a service reopened on the same
// data directory (a restart), still has it; another user keeps none.
func TestLangSurvivesSessionsAndRestart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	_, kim := e.addUser(t, "kim")
	e.addUser(t, "an")
	if kim.Lang != "" {
		t.Fatalf("a new user's language %q, want unchosen", kim.Lang)
	}
	if err := e.s.SetLang(ctx, kim, "fr"); !errs.Is(err, errs.Invalid) || errs.CodeOf(err) != "lang.unknown" {
		t.Fatalf("SetLang fr: %v", err)
	}
	if err := e.s.SetLang(ctx, nil, "en"); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("SetLang without a session: %v", err)
	}
	if err := e.s.SetLang(ctx, kim, "en"); err != nil {
		t.Fatal(err)
	}
	if p := e.login(t, "kim", "Blue-river-42", ""); p.Lang != "en" {
		t.Fatalf("kim's next session has language %q, want en", p.Lang)
	}
	if p := e.login(t, "an", "Blue-river-42", ""); p.Lang != "" {
		t.Fatalf("an's language %q changed with kim's", p.Lang)
	}
	e.s.Close()
	s, err := Open(ctx, Config{Dir: e.s.cfg.Dir, Ledger: e.s.cfg.Ledger, Clock: e.clk, Argon2: fast})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sess, err := s.Login(ctx, "kim", "Blue-river-42", "", netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, sess.Token, netip.MustParseAddr("10.0.0.1"))
	if err != nil || p.Lang != "en" {
		t.Fatalf("kim after a restart: %+v %v", p, err)
	}
}
