package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"

	_ "modernc.org/sqlite"
)

// ledgerSite is an installation as docs/guide/running.md recommends: the
// signing key and the witness outside the data directory, named in the
// configuration file; the public key written down elsewhere again.
type ledgerSite struct {
	root, data, cfg, pub string
}

func newLedgerSite(t *testing.T) ledgerSite {
	t.Helper()
	root := t.TempDir()
	s := ledgerSite{root: root, data: filepath.Join(root, "data"), cfg: filepath.Join(root, "gwanje.yaml"),
		pub: filepath.Join(root, "auditor", "ledger.pub")}
	yaml := fmt.Sprintf("data_dir: %s\nledger:\n  signing_key_file: %s\n  witness_dir: %s\n",
		s.data, filepath.Join(root, "secret", "ledger-signing.key"), filepath.Join(root, "witness"))
	if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.data, 0o700); err != nil {
		t.Fatal(err)
	}
	return s
}

// fillLedger appends n viewing entries through the ledger that opts names,
// a checkpoint every 8.
func fillLedger(t *testing.T, opts ledger.Options, n int, purpose string) {
	t.Helper()
	opts.CheckpointEvery, opts.CheckpointInterval, opts.Logger = 8, time.Hour, slog.New(slog.DiscardHandler)
	l, err := ledger.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := ledger.Entry{Kind: ledger.Playback, Actor: "kim", Role: "접근권한자", Site: "main", Cameras: []string{"cam1"},
			PurposeCategory: "incident", Purpose: fmt.Sprintf("%s %d", purpose, i)}
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// forgeLedger is what someone who can write the data directory, and only
// it, can do: throw ledger.db away and write a new one of his own, signed
// by a key he makes and leaves where the data directory keeps keys.
func forgeLedger(t *testing.T, data string, n int) {
	t.Helper()
	for _, f := range []string{ledger.DBName, ledger.DBName + "-wal", ledger.DBName + "-shm", "keys"} {
		os.RemoveAll(filepath.Join(data, f))
	}
	fillLedger(t, ledger.Options{Dir: data}, n, "기록 없음")
}

func deleteCheckpoints(t *testing.T, data string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, ledger.DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER checkpoint_no_delete`, `DELETE FROM checkpoint`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestLedgerVerifyTrustFromOutside is the acceptance tamper test of
// finding 2 (issue 11), through the command line: with write access to
// the data directory but not to the key location or the witness,
// rewriting rows, re-signing with the attacker's own key, swapping the
// key, and deleting every checkpoint then rewriting every row are all
// detected by `gwanje ledger verify` given the public key (or its
// fingerprint) from outside. Trusting the data directory (what verify did
// before) passes every one of them, with a loud warning.
func TestLedgerVerifyTrustFromOutside(t *testing.T) {
	attacks := []struct {
		name   string
		attack func(t *testing.T, s ledgerSite)
	}{
		{"rewrite every row and re-sign with a new key", func(t *testing.T, s ledgerSite) {
			forgeLedger(t, s.data, 30)
		}},
		{"swap the key and append as the ledger", func(t *testing.T, s ledgerSite) {
			// Keep the rows, put his own key in the data directory and
			// re-sign: every checkpoint is then his.
			forgeLedger(t, s.data, 30)
			fillLedger(t, ledger.Options{Dir: s.data}, 5, "추가")
		}},
		{"delete every checkpoint, then rewrite every row", func(t *testing.T, s ledgerSite) {
			forgeLedger(t, s.data, 30)
			deleteCheckpoints(t, s.data)
		}},
		{"delete every checkpoint and the newest rows", func(t *testing.T, s ledgerSite) {
			forgeLedger(t, s.data, 12)
			deleteCheckpoints(t, s.data)
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			s := newLedgerSite(t)
			fillLedger(t, ledgerOpts(t, s), 30, "도난 사건 확인")
			// The auditor writes the public key and fingerprint down, away
			// from the data directory.
			code, keyOut, errs := gwanje(t, "ledger", "key", "-config", s.cfg, "-o", s.pub)
			fp := regexp.MustCompile(`fingerprint: ([0-9a-f]{64})`).FindStringSubmatch(keyOut)
			if code != 0 || fp == nil {
				t.Fatalf("ledger key: %d %q %s", code, keyOut, errs)
			}
			if code, out, errs := gwanje(t, "ledger", "verify", "-config", s.cfg, "-pubkey", s.pub); code != 0 || !strings.Contains(out, "\nok") || errs != "" {
				t.Fatalf("before the attack: %d\n%s\n%s", code, out, errs)
			}
			a.attack(t, s)
			for _, trust := range [][]string{{"-pubkey", s.pub}, {"-fingerprint", fp[1]}} {
				code, out, errs := gwanje(t, append([]string{"ledger", "verify", "-config", s.cfg}, trust...)...)
				if code != 1 || !strings.Contains(out, "FIRST BAD ENTRY") {
					t.Errorf("verify %s: attack not detected: exit %d\n%s\n%s", trust[0], code, out, errs)
				}
			}
			// Trusting what the data directory holds is fooled, and says so.
			code, out, errs := gwanje(t, "ledger", "verify", "-data", s.data)
			if code != 0 || !strings.Contains(errs, "WARNING: no trusted key") || !strings.Contains(errs, "WARNING: no witness") {
				t.Errorf("unanchored verify: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
}

func ledgerOpts(t *testing.T, s ledgerSite) ledger.Options {
	t.Helper()
	var lf ledgerFlags
	lf.config = s.cfg
	cfg, err := lf.load()
	if err != nil {
		t.Fatal(err)
	}
	return ledgerOptionsFor(cfg, nil)
}

// `gwanje ledger rotate-key` replaces the key; verify accepts the chain
// from either key, and the new key goes on signing.
func TestLedgerRotateKeyCommand(t *testing.T) {
	s := newLedgerSite(t)
	fillLedger(t, ledgerOpts(t, s), 10, "확인")
	if code, out, errs := gwanje(t, "ledger", "key", "-config", s.cfg, "-o", s.pub); code != 0 {
		t.Fatalf("ledger key: %s %s", out, errs)
	}
	if code, _, _ := gwanje(t, "ledger", "rotate-key", "-config", s.cfg); code != 2 {
		t.Errorf("rotate-key without -actor: exit %d, want 2", code)
	}
	code, out, errs := gwanje(t, "ledger", "rotate-key", "-config", s.cfg, "-actor", "root")
	if code != 0 || !strings.Contains(out, "rotated the ledger signing key at entry 11") {
		t.Fatalf("rotate-key: %d\n%s\n%s", code, out, errs)
	}
	newPub := filepath.Join(s.root, "auditor", "ledger-2.pub")
	if code, _, errs := gwanje(t, "ledger", "key", "-config", s.cfg, "-o", newPub); code != 0 {
		t.Fatal(errs)
	}
	fillLedger(t, ledgerOpts(t, s), 10, "확인")
	for _, pub := range []string{s.pub, newPub} {
		code, out, errs := gwanje(t, "ledger", "verify", "-config", s.cfg, "-pubkey", pub)
		if code != 0 || !strings.Contains(out, "signs entries 1 to 11") || !strings.Contains(out, "signs entries 12 onward") ||
			!strings.Contains(out, "signed through 21") {
			t.Errorf("verify with %s: %d\n%s\n%s", filepath.Base(pub), code, out, errs)
		}
	}
	if code, _, errs := gwanje(t, "ledger", "-h"); code != 0 || !strings.Contains(errs, "rotate-key") {
		t.Errorf("ledger -h: %d %s", code, errs)
	}
}
