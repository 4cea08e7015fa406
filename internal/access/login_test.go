package access

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base32"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/seal"
)

var (
	addrA = netip.MustParseAddr("192.0.2.10")
	addrB = netip.MustParseAddr("198.51.100.20")
)

// TestFailedLoginStoresACappedName: a 64 KiB name full of terminal escapes
// and NULs costs the ledger at most 64 characters, none of them control.
func TestFailedLoginStoresACappedName(t *testing.T) {
	e := newEnv(t, nil)
	name := strings.Repeat("\x1b[31m\x00evil\u202e", 6000) // ~64 KiB
	if _, err := e.s.Login(context.Background(), name, "x", "", addrA); !errs.Is(err, errs.Unauthorized) || errs.CodeOf(err) != "login.failed" {
		t.Fatalf("login: %v (code %s)", err, errs.CodeOf(err))
	}
	fails := e.entries(t, ledger.LoginFailed)
	got := fails[len(fails)-1].Actor
	if n := utf8.RuneCountInString(got); n > 4*MaxNameRunes+1 || len(got) > 512 {
		t.Fatalf("ledger stores %d characters (%d bytes) of the typed name", n, len(got))
	}
	if strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		t.Fatalf("ledger stores control characters: %q", got)
	}
	if !strings.HasPrefix(got, `\u001b[31m\u0000evil\u202e`) || !strings.HasSuffix(got, "…") {
		t.Fatalf("stored name %q", got)
	}
}

// TestFailedLoginsLimitedPerAddress: after MaxAddressFailures failures
// from one address, whatever the names, its attempts are refused unchecked
// with one more ledger row in all; another address is unaffected; the
// window's end lifts the limit.
func TestFailedLoginsLimitedPerAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxAddressFailures, c.FailureWindow = 5, time.Minute })
	e.addUser(t, "kim", Grant{Role: Staff, Sites: []string{"main"}})
	ctx := context.Background()
	before := len(e.entries(t, ledger.LoginFailed))
	for i := 0; i < 200; i++ {
		e.s.Login(ctx, "stranger"+strings.Repeat("x", i), "guess", "", addrA)
	}
	if n := len(e.entries(t, ledger.LoginFailed)) - before; n != 6 {
		t.Fatalf("200 attempts from one address wrote %d ledger rows, want 5 failures and 1 refusal", n)
	}
	if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", addrA); errs.CodeOf(err) != "login.failed" {
		t.Fatalf("a limited address logged in: %v", err)
	}
	if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", addrB); err != nil {
		t.Fatalf("another address refused: %v", err)
	}
	// An IPv6 client is counted by its /64.
	for i := 0; i < 6; i++ {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)})
		e.s.Login(ctx, "nobody", "guess", "", a)
	}
	if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", netip.MustParseAddr("2001:db8::99")); err == nil {
		t.Fatal("a /64 that failed 6 times from 6 addresses is not limited")
	}
	e.clk.Advance(61 * time.Second)
	if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", addrA); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestLockoutPerAddress: five wrong passwords from one address lock the
// account for that address only; the owner logs in from elsewhere. The
// account-wide ceiling, much higher, locks it everywhere.
func TestLockoutPerAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFailures, c.AccountMaxFailures, c.MaxAddressFailures = 5, 12, 100 })
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		e.s.Login(ctx, "admin", "wrong-pass-1", "", addrA)
	}
	if _, err := e.s.Login(ctx, "admin", "Strong-pass-2026", "", addrA); err == nil {
		t.Fatal("the guessing address is not locked out")
	}
	if _, err := e.s.Login(ctx, "admin", "Strong-pass-2026", "", addrB); err != nil {
		t.Fatalf("five guesses from one address locked the owner out everywhere: %v", err)
	}
	// 12 failures in all (5 counted above; the locked attempt is not a
	// guess) from several addresses: locked everywhere.
	for i := 0; i < 7; i++ {
		a := netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)})
		e.s.Login(ctx, "admin", "wrong-pass-1", "", a)
	}
	if _, err := e.s.Login(ctx, "admin", "Strong-pass-2026", "", netip.MustParseAddr("203.0.113.200")); err == nil {
		t.Fatal("the account-wide ceiling did not lock the account")
	}
	e.clk.Advance(31 * time.Minute)
	if _, err := e.s.Login(ctx, "admin", "Strong-pass-2026", "", addrA); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

// TestWeakPasswordsRefused: zxcvbn refuses what the class rule let through.
func TestWeakPasswordsRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "moon", Grant{Role: Staff, Sites: []string{"main"}})
	ctx := context.Background()
	for pw, code := range map[string]errs.Code{"password123": "password.weak", "Qwerty12345": "password.weak",
		"short1!": "password.short", "moon-is-blue-7": "password.contains_name", "Blue-river-42": "password.same"} {
		if err := e.s.ChangePassword(ctx, p, "Blue-river-42", pw); !errs.Is(err, errs.Invalid) || errs.CodeOf(err) != code {
			t.Errorf("%q: %v (code %s), want %s", pw, err, errs.CodeOf(err), code)
		}
	}
	if err := e.s.ChangePassword(ctx, p, "wrong-current-1", "Quiet-Lamp-Orbit-93"); errs.CodeOf(err) != "password.wrong" {
		t.Errorf("wrong current password: %v", err)
	}
	if err := e.s.ChangePassword(ctx, p, "Blue-river-42", "Quiet-Lamp-Orbit-93"); err != nil {
		t.Fatal(err)
	}
}

// TestTOTPChangeNeedsPasswordOrCode: a stolen session alone can neither
// enrol, replace nor remove TOTP.
func TestTOTPChangeNeedsPasswordOrCode(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Keys, _ = seal.NewKeyring(bytes.Repeat([]byte{7}, 32))
	})
	_, p := e.addUser(t, "oh", Grant{Role: Staff, Sites: []string{"*"}})
	ctx := context.Background()
	for _, pw := range []string{"", "wrong-pass-1"} {
		if _, err := e.s.BeginTOTP(ctx, p, pw, ""); !errs.Is(err, errs.Permission) {
			t.Fatalf("enrolment with password %q: %v", pw, err)
		}
	}
	enrol := func(pw, code string) func() string {
		t.Helper()
		uri, err := e.s.BeginTOTP(ctx, p, pw, code)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(uri)
		secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
		codeOf := func() string { return totpCode(sha1.New, secret, totpStepAt(e.clk.Now()), 6) }
		if err := e.s.ConfirmTOTP(ctx, p, codeOf()); err != nil {
			t.Fatal(err)
		}
		// The secret is sealed at rest.
		acc, _ := e.s.st.AccountByID(ctx, p.ID)
		if bytes.Contains(acc.TOTPSecret, secret) || !bytes.HasPrefix(acc.TOTPSecret, []byte(sealedTOTPMagic)) {
			t.Fatalf("TOTP secret stored unsealed: %x", acc.TOTPSecret)
		}
		return codeOf
	}
	code := enrol("Blue-river-42", "")
	e.clk.Advance(30 * time.Second)
	if _, err := e.s.Login(ctx, "oh", "Blue-river-42", code(), addrB); err != nil {
		t.Fatalf("login with the sealed secret: %v", err)
	}
	// Replacing: a wrong code is refused; the current code will do.
	if _, err := e.s.BeginTOTP(ctx, p, "", "000000"); !errs.Is(err, errs.Permission) {
		t.Fatalf("replacement with a wrong code: %v", err)
	}
	e.clk.Advance(30 * time.Second)
	code = enrol("", code())
	if err := e.s.RemoveTOTP(ctx, p, "", ""); !errs.Is(err, errs.Permission) {
		t.Fatalf("removal without proof: %v", err)
	}
	e.clk.Advance(30 * time.Second)
	if err := e.s.RemoveTOTP(ctx, p, "", code()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "oh", "Blue-river-42", "", addrB); err != nil {
		t.Fatalf("login after removal: %v", err)
	}
}

// TestUserNamesNormalized: names are PRECIS-normalized; control
// characters, mixed scripts and names that collide after normalization are
// refused; a user logs in with any case of the name.
func TestUserNamesNormalized(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	g := []Grant{{Role: Staff, Sites: []string{"main"}}}
	u, _, err := e.s.CreateUser(ctx, e.admin, "Kim", "김", g)
	if err != nil || u.Name != "kim" {
		t.Fatalf("create Kim: %+v %v", u, err)
	}
	for name, code := range map[string]errs.Code{
		"KIM": "user.exists", "ｋｉｍ": "user.exists", "ADMIN": "user.exists",
		"ad\x1bmin": "user.name", "a\x00b": "user.name", "аdmin": "user.name", "bad name": "user.name",
		"": "user.name", strings.Repeat("a", 65): "user.name", "a/b": "user.name",
	} {
		_, _, err := e.s.CreateUser(ctx, e.admin, name, "", g)
		if errs.CodeOf(err) != code {
			t.Errorf("create %q: %v (code %s), want %s", name, err, errs.CodeOf(err), code)
		}
	}
	if _, err := e.s.Login(ctx, "ADMIN", "Strong-pass-2026", "", addrA); err != nil {
		t.Fatalf("login as ADMIN: %v", err)
	}
	if _, _, err := e.s.CreateUser(ctx, e.admin, "홍길동", "", g); err != nil {
		t.Fatalf("a Korean name: %v", err)
	}
}

// TestUnsealedTOTPSealedAtFirstUse: a secret stored before sealing (20 raw
// bytes) still logs in, and is sealed by that login.
func TestUnsealedTOTPSealedAtFirstUse(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Keys, _ = seal.NewKeyring(bytes.Repeat([]byte{9}, 32)) })
	_, p := e.addUser(t, "ko", Grant{Role: Staff, Sites: []string{"main"}})
	ctx := context.Background()
	secret := bytes.Repeat([]byte{0x42}, 20)
	if err := e.s.st.SetTOTP(ctx, p.ID, secret, nil, 0); err != nil {
		t.Fatal(err)
	}
	code := totpCode(sha1.New, secret, totpStepAt(e.clk.Now()), 6)
	if _, err := e.s.Login(ctx, "ko", "Blue-river-42", code, addrA); err != nil {
		t.Fatalf("login with a legacy secret: %v", err)
	}
	acc, _ := e.s.st.AccountByID(ctx, p.ID)
	if !isSealed(acc.TOTPSecret) || bytes.Contains(acc.TOTPSecret, secret) {
		t.Fatalf("legacy secret not sealed after use: %x", acc.TOTPSecret)
	}
	e.clk.Advance(30 * time.Second)
	code = totpCode(sha1.New, secret, totpStepAt(e.clk.Now()), 6)
	if _, err := e.s.Login(ctx, "ko", "Blue-river-42", code, addrA); err != nil {
		t.Fatalf("login with the sealed secret: %v", err)
	}
}

// TestRemoveTOTPOfLostPhone: an administrator who could reset the user's
// password removes their authenticator (a lost phone), ending their
// sessions; nobody does it to themself this way; it is ledgered.
func TestRemoveTOTPOfLostPhone(t *testing.T) {
	e := newEnv(t, nil)
	tok, p := e.addUser(t, "yu", Grant{Role: Staff, Sites: []string{"main"}})
	ctx := context.Background()
	uri, err := e.s.BeginTOTP(ctx, p, "Blue-river-42", "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err := e.s.ConfirmTOTP(ctx, p, totpCode(sha1.New, secret, totpStepAt(e.clk.Now()), 6)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.RemoveTOTPOf(ctx, e.admin, "admin"); errs.CodeOf(err) != "user.self_reset" {
		t.Fatalf("own authenticator: %v", err)
	}
	if err := e.s.RemoveTOTPOf(ctx, e.admin, "yu"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(ctx, tok, addrA); err == nil {
		t.Fatal("a session survived the removal")
	}
	if _, err := e.s.Login(ctx, "yu", "Blue-river-42", "", addrA); err != nil {
		t.Fatalf("login without a code after removal: %v", err)
	}
	ch := e.entries(t, ledger.UserChange)
	if d := ch[len(ch)-1].Detail; !strings.Contains(d, "TOTP removed by an administrator") {
		t.Fatalf("ledger: %q", d)
	}
	if err := e.s.RemoveTOTPOf(ctx, e.admin, "yu"); errs.CodeOf(err) != "totp.off" {
		t.Fatalf("second removal: %v", err)
	}
}
