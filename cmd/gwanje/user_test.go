package main

import (
	"bytes"
	"context"
	"net/netip"
	"regexp"
	"testing"
)

// TestUserResetPassword: the operator of the machine recovers a forgotten
// administrator password with `gwanje user reset-password`; the printed
// one-time password logs in and must be changed.
func TestUserResetPassword(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, l, _, err := openAccess(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := s.EnsureAdmin(ctx, "admin")
	s.Close()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := runUser(ctx, []string{"reset-password", "-data", dir, "admin"}, &out, &errb); err != nil {
		t.Fatalf("reset-password: %v\n%s", err, errb.String())
	}
	m := regexp.MustCompile(`one-time password .*: (\S+)\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password printed: %q", out.String())
	}
	s, l, _, err = openAccess(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer s.Close()
	if _, err := s.Login(ctx, "admin", first, "", netip.Addr{}); err == nil {
		t.Error("the old one-time password still logs in")
	}
	sess, err := s.Login(ctx, "admin", m[1], "", netip.Addr{})
	if err != nil {
		t.Fatalf("printed password refused: %v", err)
	}
	if !sess.Principal.MustChangePassword {
		t.Error("the printed password need not be changed")
	}
	if err := runUser(ctx, []string{"reset-password", "-data", dir, "nobody"}, &out, &errb); err == nil {
		t.Error("reset of an unknown user succeeded")
	}
}
