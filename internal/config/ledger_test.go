package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLedgerSection(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	p := filepath.Join(t.TempDir(), "gwanje.yaml")
	os.WriteFile(p, []byte("data_dir: /var/lib/gwanje\nledger:\n  signing_key_file: /etc/gwanje/ledger-signing.key\n"+
		"  witness_dir: /mnt/witness/gwanje\n  syslog: udp://10.0.0.9:514\n  trusted_fingerprint: "+fp+"\n"), 0o600)
	c, err := Load(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.LedgerKeyFile() != "/etc/gwanje/ledger-signing.key" || c.Ledger.WitnessDir != "/mnt/witness/gwanje" || c.Ledger.TrustedFingerprint != fp {
		t.Fatalf("ledger section %+v", c.Ledger)
	}
	if d := Default(); d.LedgerKeyFile() != "/var/lib/gwanje/keys/ledger-signing.key" {
		t.Fatalf("default key file %s", d.LedgerKeyFile())
	}
	env := map[string]string{"GWANJE_LEDGER_SIGNING_KEY_FILE": "/k", "GWANJE_LEDGER_WITNESS_DIR": "/w", "GWANJE_LEDGER_TRUSTED_PUBLIC_KEY": "/p"}
	c, err = Load("", func(k string) string { return env[k] })
	if err != nil || c.LedgerKeyFile() != "/k" || c.Ledger.WitnessDir != "/w" || c.Ledger.TrustedPublicKey != "/p" {
		t.Fatalf("from the environment: %+v %v", c.Ledger, err)
	}
	cases := []struct{ yaml, want string }{
		{"ledger:\n  witness_dir: /var/lib/gwanje/witness\n", ":3: ledger.witness_dir: must be outside data_dir"},
		{"ledger:\n  trusted_public_key: /var/lib/gwanje/keys/ledger-signing.pub\n", ":3: ledger.trusted_public_key: must be outside data_dir"},
		{"ledger:\n  signing_key_file: keys/l.key\n", ":3: ledger.signing_key_file: must be an absolute path"},
		{"ledger:\n  trusted_fingerprint: 1234\n", ":3: ledger.trusted_fingerprint: want the 64 hex digits"},
		{"ledger:\n  syslog: logserver\n", ":3: ledger.syslog: want local, udp://host:port"},
	}
	for _, tc := range cases {
		os.WriteFile(p, []byte("data_dir: /var/lib/gwanje\n"+tc.yaml), 0o600)
		if _, err := Load(p, noEnv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	// A sibling whose name starts like data_dir is outside it.
	os.WriteFile(p, []byte("data_dir: /var/lib/gwanje\nledger:\n  witness_dir: /var/lib/gwanje-witness\n"), 0o600)
	if _, err := Load(p, noEnv); err != nil {
		t.Errorf("sibling directory refused: %v", err)
	}
}
