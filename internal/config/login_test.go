package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The login limits have defaults, parse, and are refused out of range with
// file and line.
func TestLoginLimits(t *testing.T) {
	d := Default().Access.Login
	if d.MaxFailures != 5 || d.AccountMaxFailures != 50 || d.AddressMaxFailures != 20 ||
		d.FailureWindow.D() != 15*time.Minute || d.Lockout.D() != 30*time.Minute {
		t.Fatalf("defaults %+v", d)
	}
	p := filepath.Join(t.TempDir(), "gwanje.yaml")
	os.WriteFile(p, []byte("access:\n  login:\n    max_failures: 3\n    address_max_failures: 200\n    lockout: 1h\n"), 0o600)
	c, err := Load(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Access.Login; l.MaxFailures != 3 || l.AddressMaxFailures != 200 || l.Lockout.D() != time.Hour || l.AccountMaxFailures != 50 {
		t.Fatalf("parsed %+v", l)
	}
	for yaml, want := range map[string]string{
		"access:\n  login:\n    max_failures: 0\n":          ":3: access.login.max_failures: must be between 1 and 100",
		"access:\n  login:\n    account_max_failures: 2\n":  ":3: access.login.account_max_failures: must be between max_failures (5)",
		"access:\n  login:\n    address_max_failures: -1\n": ":3: access.login.address_max_failures",
		"access:\n  login:\n    failure_window: 10s\n":      ":3: access.login.failure_window",
		"access:\n  login:\n    lockout: 48h\n":             ":3: access.login.lockout",
	} {
		os.WriteFile(p, []byte(yaml), 0o600)
		if _, err := Load(p, noEnv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}
