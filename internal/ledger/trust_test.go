package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
)

// site is a data directory with the signing key and the witness outside
// it, as docs/guide/running.md recommends.
type site struct {
	data, keyPath, witness string
}

func newSite(t *testing.T) site {
	root := t.TempDir()
	return site{data: filepath.Join(root, "data"), keyPath: filepath.Join(root, "secret", "ledger-signing.key"),
		witness: filepath.Join(root, "witness")}
}

func (s site) open(t *testing.T, clk clock.Clock) *Ledger {
	t.Helper()
	if clk == nil {
		clk = clock.NewFake(t0)
	}
	if err := os.MkdirAll(s.data, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := Open(context.Background(), Options{Dir: s.data, KeyPath: s.keyPath, Witnesses: []Witness{DirWitness(s.witness)},
		CheckpointEvery: 8, CheckpointInterval: time.Hour, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// verifyOutside verifies as an auditor does: the public key from outside,
// and the witness.
func (s site) verifyOutside(t *testing.T, pub ed25519.PublicKey) Report {
	t.Helper()
	rep, err := Verify(context.Background(), VerifyOptions{Dir: s.data, Trust: []ed25519.PublicKey{pub},
		Witnesses: []Witness{DirWitness(s.witness)}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// rebuild is the attacker's tool: with write access to the data directory
// only, replace ledger.db by a chain of es (recomputed with valid hashes)
// with checkpoints every 8 entries signed by signer (none if nil), and put
// signer's key where the data directory keeps the ledger's keys.
func rebuild(t *testing.T, dir string, es []Entry, signer *Key) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(dir, DBName+suffix))
	}
	st, err := openSQLite(context.Background(), filepath.Join(dir, DBName), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var prev [32]byte
	var rows []Record
	for i, e := range es {
		e.Seq, e.Prev = uint64(i+1), prev
		b := Encode(&e)
		e.Hash = sha256.Sum256(b)
		rows = append(rows, Record{Seq: e.Seq, Body: b, Hash: e.Hash})
		prev = e.Hash
		if signer != nil && (e.Seq%8 == 0 || i == len(es)-1) {
			cp := signer.sign(e.Seq, e.Hash, t0)
			if err := st.insert(context.Background(), rows[0].Seq-1, rows, &cp); err != nil {
				t.Fatal(err)
			}
			rows = nil
		}
	}
	if len(rows) > 0 {
		if err := st.insert(context.Background(), rows[0].Seq-1, rows, nil); err != nil {
			t.Fatal(err)
		}
	}
	if signer != nil {
		os.Remove(DefaultKeyPath(dir))
		if err := os.WriteFile(DefaultKeyPath(dir), []byte(keyHeader+"\n"+hexSeed(signer)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WritePublicKey(PublicKeyPath(dir), signer.Public()); err != nil {
			t.Fatal(err)
		}
	}
}

func hexSeed(k *Key) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range k.priv.Seed() {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}

func entriesOf(t *testing.T, dir string) []Entry {
	t.Helper()
	es, err := QueryDir(context.Background(), dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// The acceptance tamper test of finding 2 (issue 11): someone who can
// write the data directory, but not the key location or the witness,
// rewrites rows and re-signs with a key of his own, swaps the key, or
// deletes every checkpoint and rewrites every row. Verify with the public
// key kept outside catches each; verify trusting the data directory
// (the old behaviour) is fooled by all of them.
func TestVerifyAnchoredOutsideCatchesDataDirWriter(t *testing.T) {
	const n = 30
	attacker, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "attacker.key"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		attack func(t *testing.T, s site, es []Entry)
		seq    uint64
		damage Damage
	}{
		{"rewrite rows and re-sign with own key", func(t *testing.T, s site, es []Entry) {
			es[4].Purpose = "다른 목적"
			rebuild(t, s.data, es, attacker)
		}, 1, Edited}, // the witness's checkpoint of entry 8 is not reproduced
		{"swap the key and re-sign the same rows", func(t *testing.T, s site, es []Entry) {
			rebuild(t, s.data, es, attacker)
		}, 8, BadCheckpoint}, // the first checkpoint is not signed by the trusted key
		{"delete every checkpoint, then rewrite every row", func(t *testing.T, s site, es []Entry) {
			es[4].Purpose = "다른 목적"
			rebuild(t, s.data, es, nil)
		}, 1, Edited},
		{"delete every checkpoint, then rewrite every row after the first witnessed one", func(t *testing.T, s site, es []Entry) {
			es[10].Purpose = "다른 목적"
			rebuild(t, s.data, es, nil)
		}, 8, MissingCheckpoint},
		{"delete every checkpoint and the newest rows", func(t *testing.T, s site, es []Entry) {
			rebuild(t, s.data, es[:12], nil)
		}, 8, MissingCheckpoint},
		{"forge a rotation to own key", func(t *testing.T, s site, es []Entry) {
			// The attacker cannot sign as the old key: a statement that
			// names it as old but is signed by his own key.
			db := rawDB(t, s.data)
			e := Entry{Seq: n + 1, Kind: KeyRotation, Time: t0, Object: "ledger signing key"}
			_, prev := headOf(t, s.data)
			e.Prev = prev
			r := newRotation(e.Seq, e.Prev, attacker, attacker)
			real, _ := ReadPublicKey(PublicKeyPath(s.data))
			r.Old = real
			e.Detail = r.text()
			b := Encode(&e)
			h := sha256.Sum256(b)
			exec(t, db, `INSERT INTO rotation(seq, rec) VALUES (?, ?)`, e.Seq, append(b, h[:]...))
			exec(t, db, `INSERT INTO tail(first, last, recs) VALUES (?, ?, ?)`, e.Seq, e.Seq, appendRow([]byte{packV1}, &Record{Seq: e.Seq, Body: b, Hash: h}))
		}, n + 1, BadRotation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			l := s.open(t, nil)
			fill(t, l, n)
			pub := l.Key().Public() // kept outside, e.g. printed by `gwanje ledger key`
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if rep := s.verifyOutside(t, pub); !rep.OK() || !rep.Anchored || rep.SignedThrough != n || rep.Unwitnessed != 0 {
				t.Fatalf("before the attack: %+v", rep)
			}
			tc.attack(t, s, entriesOf(t, s.data))
			rep := s.verifyOutside(t, pub)
			if rep.OK() {
				t.Fatalf("attack not detected: %+v", rep)
			}
			if rep.Problem.Seq != tc.seq || rep.Problem.Damage != tc.damage {
				t.Fatalf("got %v, want entry %d %v", rep.Problem, tc.seq, tc.damage)
			}
			// The fingerprint alone, from outside, is as good as the key.
			frep, err := Verify(context.Background(), VerifyOptions{Dir: s.data, Fingerprints: []string{Fingerprint(pub)},
				Witnesses: []Witness{DirWitness(s.witness)}})
			if err != nil || frep.OK() {
				t.Fatalf("with the fingerprint: %+v %v", frep, err)
			}
		})
	}
}

// Trusting the data directory's own key (no anchor, no witness) is what
// `ledger verify` did before: it is fooled by a rewrite re-signed with a
// swapped key, and says so (Anchored false).
func TestVerifyTrustingDataDirIsFooled(t *testing.T) {
	s := newSite(t)
	l := s.open(t, nil)
	fill(t, l, 20)
	l.Close()
	attacker, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "a.key"))
	es := entriesOf(t, s.data)
	es[3].Purpose = "다른 목적"
	rebuild(t, s.data, es, attacker)
	rep, err := Verify(context.Background(), VerifyOptions{Dir: s.data})
	if err != nil || !rep.OK() || rep.Anchored {
		t.Fatalf("want an unanchored pass (the limit documented): %+v %v", rep, err)
	}
}

func headOf(t *testing.T, dir string) (uint64, [32]byte) {
	t.Helper()
	st, err := openSQLite(context.Background(), filepath.Join(dir, DBName), true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq, h.Hash
}

// A rotation keeps the ledger verifiable from either key, appends go on
// under the new key, and the retired private key is gone.
func TestRotateKey(t *testing.T) {
	s := newSite(t)
	l := s.open(t, nil)
	fill(t, l, 10)
	k0 := l.Key().Public()
	e, err := l.RotateKey(context.Background(), "root", "local")
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 11 || e.Kind != KeyRotation {
		t.Fatalf("rotation entry %+v", e)
	}
	k1 := l.Key().Public()
	if k1.Equal(k0) {
		t.Fatal("key not replaced")
	}
	if k, err := LoadKey(s.keyPath); err != nil || !k.Public().Equal(k1) {
		t.Fatalf("key file after rotation: %v", err)
	}
	if _, err := os.Stat(nextKeyPath(s.keyPath)); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", nextKeyPath(s.keyPath), err)
	}
	fill(t, l, 10)
	l.Close()
	for name, pub := range map[string]ed25519.PublicKey{"old key": k0, "new key": k1} {
		rep := s.verifyOutside(t, pub)
		if !rep.OK() || rep.SignedThrough != 21 || len(rep.Keys) != 2 || rep.Keys[0].Last != 11 || rep.Keys[1].First != 12 {
			t.Fatalf("trusting the %s: %v %+v", name, rep.Problem, rep)
		}
	}
	// Reopened, the new key goes on signing.
	l = s.open(t, nil)
	fill(t, l, 3)
	l.Close()
	if rep := s.verifyOutside(t, k0); !rep.OK() || rep.SignedThrough != 24 {
		t.Fatalf("after reopening: %v %+v", rep.Problem, rep)
	}
	// The rotation entry is in the chain for the 관리대장.
	es := entriesOf(t, s.data)
	if r, err := ParseRotation(&es[10]); err != nil || !r.Valid() || !r.Old.Equal(k0) || !r.New.Equal(k1) {
		t.Fatalf("rotation statement: %+v %v", r, err)
	}
}

// A checkpoint signed by a retired key past its rotation is refused, and
// deleting the rotation record leaves the new key's checkpoints unproven.
func TestRotationLimitsOldKey(t *testing.T) {
	s := newSite(t)
	l := s.open(t, nil)
	fill(t, l, 5)
	oldKey := l.Key()
	k0 := oldKey.Public()
	if _, err := l.RotateKey(context.Background(), "root", ""); err != nil {
		t.Fatal(err)
	}
	fill(t, l, 5)
	l.Close()
	// A thief of the retired key signs a checkpoint past the rotation.
	seq, h := headOf(t, s.data)
	db := rawDB(t, s.data)
	dropTriggers(t, db)
	exec(t, db, `DROP TRIGGER rotation_no_delete`)
	forged := oldKey.sign(seq, h, t0)
	exec(t, db, `DELETE FROM checkpoint WHERE seq=?`, seq)
	exec(t, db, `INSERT INTO checkpoint(seq, hash, time_ns, key_id, sig) VALUES (?, ?, ?, ?, ?)`, seq, forged.Hash[:], forged.Time.UnixNano(), forged.KeyID, forged.Sig)
	rep, err := Verify(context.Background(), VerifyOptions{Dir: s.data, Trust: []ed25519.PublicKey{k0}})
	if err != nil || rep.OK() || rep.Problem.Damage != BadCheckpoint || rep.Problem.Seq != seq {
		t.Fatalf("retired key past its rotation: %v %v", rep.Problem, err)
	}
	// The thief also deletes the rotation record, so the retired key
	// seems never retired: the rotation entry in the chain gives it away.
	exec(t, db, `DELETE FROM rotation`)
	rep, err = Verify(context.Background(), VerifyOptions{Dir: s.data, Trust: []ed25519.PublicKey{k0}})
	if err != nil || rep.OK() || rep.Problem.Damage != BadRotation || rep.Problem.Seq != 6 {
		t.Fatalf("rotation record deleted: %v %v", rep.Problem, err)
	}
}

// Open refuses a key that is not the ledger's, instead of creating or
// using it, and finishes a rotation interrupted after its commit.
func TestOpenKeyChecks(t *testing.T) {
	s := newSite(t)
	l := s.open(t, nil)
	fill(t, l, 3)
	l.Close()
	opt := Options{Dir: s.data, Logger: slog.New(slog.DiscardHandler)} // the default key path: no key there
	if _, err := Open(context.Background(), opt); !errs.Is(err, errs.NotExist) || !strings.Contains(err.Error(), "signing_key_file") {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := os.Stat(DefaultKeyPath(s.data)); !os.IsNotExist(err) {
		t.Fatal("a new key was created for a sealed ledger")
	}
	if _, err := LoadOrCreateKey(DefaultKeyPath(s.data)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), opt); !errs.Is(err, errs.Invalid) {
		t.Fatalf("another key: %v", err)
	}
	// Interrupted rotation: committed, new key still in .next, old key in place.
	l = s.open(t, nil)
	oldText, _ := os.ReadFile(s.keyPath)
	if _, err := l.RotateKey(context.Background(), "root", ""); err != nil {
		t.Fatal(err)
	}
	newKey := l.Key()
	l.Close()
	os.Rename(s.keyPath, nextKeyPath(s.keyPath))
	os.WriteFile(s.keyPath, oldText, 0o600)
	l = s.open(t, nil)
	if l.Key().ID != newKey.ID {
		t.Fatalf("interrupted rotation not finished: key %s, want %s", l.Key().ID, newKey.ID)
	}
	fill(t, l, 2)
	if rep, err := l.Verify(context.Background()); err != nil || !rep.OK() {
		t.Fatalf("%v %v", rep.Problem, err)
	}
}

// Another process rotating the key while this one holds the ledger: this
// one signs nothing with the retired key and picks up the new one.
func TestRotationByAnotherProcess(t *testing.T) {
	s := newSite(t)
	a := s.open(t, nil)
	b := s.open(t, nil)
	fill(t, a, 3)
	if _, err := b.RotateKey(context.Background(), "root", ""); err != nil {
		t.Fatal(err)
	}
	fill(t, a, 10) // checkpoints due: a must use the new key
	if a.Key().ID != b.Key().ID {
		t.Fatalf("a still signs with %s after the rotation to %s", a.Key().ID, b.Key().ID)
	}
	a.Close()
	b.Close()
	if rep := s.verifyOutside(t, b.Key().Public()); !rep.OK() {
		t.Fatalf("%v %+v", rep.Problem, rep)
	}
}

// The witness gets every checkpoint, and a checkpoint deleted from the
// database (with the entries it sealed left intact) is named.
func TestWitnessRecordsAndComparesCheckpoints(t *testing.T) {
	s := newSite(t)
	l := s.open(t, nil)
	fill(t, l, 20)
	pub := l.Key().Public()
	l.Close()
	ws, err := DirWitness(s.witness).Checkpoints(context.Background())
	if err != nil || len(ws) != 3 || ws[0].Seq != 8 || ws[2].Seq != 20 {
		t.Fatalf("witness holds %+v %v", ws, err)
	}
	if fi, err := os.Stat(filepath.Join(s.witness, WitnessFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("witness file: %v", err)
	}
	db := rawDB(t, s.data)
	dropTriggers(t, db)
	exec(t, db, `DELETE FROM checkpoint WHERE seq=16`)
	rep := s.verifyOutside(t, pub)
	if rep.OK() || rep.Problem.Seq != 16 || rep.Problem.Damage != MissingCheckpoint {
		t.Fatalf("deleted checkpoint: %v", rep.Problem)
	}
	// A checkpoint the witness lacks is counted, not an error.
	os.Remove(filepath.Join(s.witness, WitnessFile))
	rep = s.verifyOutside(t, pub)
	if !rep.OK() || rep.Unwitnessed != 2 {
		t.Fatalf("empty witness: %v %+v", rep.Problem, rep)
	}
}

// A ledger written before rotations (schema version 2) verifies read-only
// as it is, and Open adds the rotation table through the sqlitedb
// migration list, keeping the chain.
func TestVersion2LedgerMigrates(t *testing.T) {
	dir := t.TempDir()
	l, _ := openTest(t, dir, 4)
	fill(t, l, 10)
	l.Close()
	db := rawDB(t, dir)
	exec(t, db, `DROP TABLE rotation`)
	exec(t, db, `PRAGMA user_version = 2`)
	if rep, err := Verify(context.Background(), VerifyOptions{Dir: dir}); err != nil || !rep.OK() || rep.Entries != 10 {
		t.Fatalf("verify version 2: %+v %v", rep, err)
	}
	l, _ = openTest(t, dir, 4)
	var v, n int
	db.QueryRow(`PRAGMA user_version`).Scan(&v)
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name IN ('rotation', 'rotation_no_update', 'rotation_no_delete')`).Scan(&n)
	if v != schemaVersion || n != 3 {
		t.Fatalf("after Open: version %d, %d rotation objects", v, n)
	}
	if _, err := l.RotateKey(context.Background(), "root", ""); err != nil {
		t.Fatal(err)
	}
	if rep, err := l.Verify(context.Background()); err != nil || !rep.OK() || rep.Entries != 11 {
		t.Fatalf("verify after migration and rotation: %v %v", rep.Problem, err)
	}
}

// The syslog witness sends each checkpoint's line to a collector, in the
// checkpoint file format, and verify skips it (it cannot read it back).
func TestSyslogWitness(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := NewSyslogWitness("udp://collector"); err == nil {
		t.Fatal("a target without a port accepted")
	}
	sw, err := NewSyslogWitness("udp://" + pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := Open(context.Background(), Options{Dir: dir, Witnesses: []Witness{sw}, CheckpointEvery: 3, CheckpointInterval: time.Hour,
		Clock: clock.NewFake(t0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fill(t, l, 3)
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	i := strings.Index(msg, "v1 3 ")
	if !strings.Contains(msg, "gwanje-ledger") || i < 0 {
		t.Fatalf("syslog message %q", msg)
	}
	// The line is a checkpoint file line: exported, verify compares it.
	f := filepath.Join(t.TempDir(), "exported")
	os.WriteFile(f, []byte(strings.TrimSpace(msg[i:])+"\n"), 0o600)
	cps, err := ReadCheckpointFile(f)
	if err != nil || len(cps) != 1 || cps[0].Seq != 3 {
		t.Fatalf("exported line: %+v %v", cps, err)
	}
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK() || rep.External != 0 || rep.Unwitnessed != 0 {
		t.Fatalf("verify with a write-only witness: %+v %v", rep, err)
	}
}

// The running ledger's own Verify (the 관리대장 page's) trusts the
// configured anchor, not the key it signs with: after a rewrite re-signed
// with a swapped key, the process restarted on that key passes its own
// check without an anchor (and says so), and fails it with the trusted
// fingerprint configured.
func TestRunningLedgerVerifiesAgainstConfiguredAnchor(t *testing.T) {
	s := newSite(t)
	l := s.open(t, nil)
	fill(t, l, 20)
	pub := l.Key().Public()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	attacker, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "a.key"))
	es := entriesOf(t, s.data)
	es[3].Purpose = "다른 목적"
	rebuild(t, s.data, es, attacker) // also puts the attacker's key in the data directory
	for _, tc := range []struct {
		name   string
		prints []string
		ok     bool
	}{{"no anchor", nil, true}, {"the trusted fingerprint", []string{Fingerprint(pub)}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Open(context.Background(), Options{Dir: s.data, Fingerprints: tc.prints,
				CheckpointEvery: 8, CheckpointInterval: time.Hour, Clock: clock.NewFake(t0), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			rep, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != tc.ok || rep.Anchored != (tc.prints != nil) {
				t.Errorf("ok %v anchored %v, want ok %v anchored %v: %+v", rep.OK(), rep.Anchored, tc.ok, tc.prints != nil, rep.Problem)
			}
		})
	}
	if _, err := Open(context.Background(), Options{Dir: s.data, Fingerprints: []string{"abc"}}); !errs.Is(err, errs.Invalid) {
		t.Errorf("a malformed trusted fingerprint opened: %v", err)
	}
}
