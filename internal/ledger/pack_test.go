package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// smallPacks makes packs of 4 entries for the rest of the test.
func smallPacks(t *testing.T) {
	old := packEntries
	packEntries = 4
	t.Cleanup(func() { packEntries = old })
}

func dropTriggers(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, tr := range []string{"entry_no_update", "entry_no_delete", "pack_no_update", "pack_no_delete", "tail_no_update", "tail_no_delete", "checkpoint_no_update", "checkpoint_no_delete"} {
		exec(t, db, `DROP TRIGGER IF EXISTS `+tr)
	}
}

// layout returns the packs and tail rows (first-last) and the entry row
// seqs.
func layout(t *testing.T, db *sql.DB) (packs, tails [][2]uint64, rows []uint64) {
	t.Helper()
	for _, table := range []string{"pack", "tail"} {
		pr, err := db.Query(`SELECT first, last FROM ` + table + ` ORDER BY first`)
		if err != nil {
			t.Fatal(err)
		}
		for pr.Next() {
			var p [2]uint64
			pr.Scan(&p[0], &p[1])
			if table == "pack" {
				packs = append(packs, p)
			} else {
				tails = append(tails, p)
			}
		}
		pr.Close()
	}
	er, err := db.Query(`SELECT seq FROM entry ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for er.Next() {
		var s uint64
		er.Scan(&s)
		rows = append(rows, s)
	}
	er.Close()
	return packs, tails, rows
}

// Entries appended one at a time (a quiet site: every batch holds one)
// are packed as they would be in large batches: packing counts entries,
// not commits, and the newest entry always stays a row.
func TestPackingFollowsEntryCountNotBatches(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	l, _ := openTest(t, dir, 1000)
	fill(t, l, 11)
	db := rawDB(t, dir)
	packs, tails, rows := layout(t, db)
	if fmt.Sprint(packs, tails, rows) != "[[1 4] [5 8]] [[9 9] [10 10] [11 11]] []" {
		t.Fatalf("after 11 single appends: packs %v tails %v rows %v", packs, tails, rows)
	}
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Entries != 11 || rep.LastSeq != 11 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	es, err := l.Query(context.Background(), Filter{})
	if err != nil || len(es) != 11 {
		t.Fatalf("query: %d entries, %v", len(es), err)
	}
	for i, e := range es {
		if e.Seq != uint64(i+1) || e.Purpose != sample(i).Purpose {
			t.Fatalf("query entry %d: seq %d purpose %q", i, e.Seq, e.Purpose)
		}
	}
	// The head is found whether the last entry is a row or packed.
	if seq, h := l.Head(); seq != 11 || h != es[10].Hash {
		t.Fatalf("head %d %x", seq, h)
	}
}

// Concurrent appends commit in batches of every size; fresh entries that
// fall into a pack go straight into it. The layout is the same as with
// single appends: packs of 4 from 1, then 1 to 4 rows.
func TestPackingWithBatches(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	l, _ := openTest(t, dir, 16)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := l.Append(context.Background(), sample(w*20+i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	packs, tails, rows := layout(t, rawDB(t, dir))
	for i, p := range packs {
		if p != [2]uint64{uint64(4*i + 1), uint64(4*i + 4)} {
			t.Fatalf("pack %d is %v", i, p)
		}
	}
	// Tail rows follow the packs, contiguous, inside the next pack's
	// range, 1 to 4 entries in all.
	next := uint64(4*len(packs) + 1)
	for _, tr := range tails {
		if tr[0] != next || tr[1] < tr[0] || tr[1] > uint64(4*len(packs)+4) {
			t.Fatalf("packs %v, tails %v", packs, tails)
		}
		next = tr[1] + 1
	}
	if len(rows) != 0 || len(tails) == 0 || next != 161 {
		t.Fatalf("packs %v, tails %v, rows %v", packs, tails, rows)
	}
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Entries != 160 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// Packing is a move the triggers allow only for packed rows; everything
// else stays refused.
func TestTriggersWithPacks(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	l, _ := openTest(t, dir, 1000)
	fill(t, l, 7) // pack 1-4, tail rows 5, 6, 7
	db := rawDB(t, dir)
	for _, q := range []string{`UPDATE tail SET first=99 WHERE first=5`, `DELETE FROM tail WHERE first=5`, `DELETE FROM tail`,
		`UPDATE pack SET last=9`, `DELETE FROM pack`} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

// placed is a stored record at a place, for rewriting a ledger's storage.
type placed struct {
	seq uint64
	rec []byte
}

// readStore returns every stored record in walk order: packs, entry rows,
// tail rows.
func readStore(t *testing.T, db *sql.DB) []placed {
	t.Helper()
	var out []placed
	packed := func(table string) {
		pr, err := db.Query(`SELECT first, recs FROM ` + table + ` ORDER BY first`)
		if err != nil {
			t.Fatal(err)
		}
		for pr.Next() {
			var first uint64
			var b []byte
			pr.Scan(&first, &b)
			rows, err := parsePack(first, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				out = append(out, placed{r.Seq, append(append([]byte(nil), r.Body...), r.Hash[:]...)})
			}
		}
		pr.Close()
	}
	packed("pack")
	er, err := db.Query(`SELECT seq, rec FROM entry ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for er.Next() {
		var p placed
		er.Scan(&p.seq, &p.rec)
		out = append(out, p)
	}
	er.Close()
	packed("tail")
	return out
}

// writeStore replaces the stored ledger by recs, numbered 1, 2, 3... in
// order: the first 16 in packs of 4, the rest in tail rows of 2 (the
// layout of a 20-entry ledger with packs of 4, with two-entry commits).
func writeStore(t *testing.T, db *sql.DB, recs [][]byte) {
	t.Helper()
	clearStore(t, db)
	for i := 0; i < len(recs); {
		table, n := "tail", min(2, len(recs)-i)
		if i+4 <= min(len(recs), 16) {
			table, n = "pack", 4
		}
		b := []byte{packV1}
		for _, r := range recs[i : i+n] {
			b = appendPackRecord(b, r)
		}
		exec(t, db, `INSERT INTO `+table+`(first, last, recs) VALUES (?, ?, ?)`, i+1, i+n, b)
		i += n
	}
}

// writeEntryRows replaces the stored ledger by recs as entry rows 1, 2, 3...
// (version 1 storage).
func writeEntryRows(t *testing.T, db *sql.DB, recs [][]byte) {
	t.Helper()
	clearStore(t, db)
	for i, r := range recs {
		exec(t, db, `INSERT INTO entry(seq, rec) VALUES (?, ?)`, i+1, r)
	}
}

func clearStore(t *testing.T, db *sql.DB) {
	for _, table := range []string{"pack", "tail", "entry"} {
		exec(t, db, `DELETE FROM `+table)
	}
}

func recsOf(ps []placed) [][]byte {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = p.rec
	}
	return out
}

// Tamper tests on packed storage: the same attacks as
// TestVerifyCatchesTampering, made on entries inside packs, plus attacks
// on the pack rows themselves.
func TestVerifyCatchesTamperingPacked(t *testing.T) {
	const n = 20 // checkpoints every 8: sealed at 8 and 16, plus 20 at Close; packs 1-4 ... 13-16, tail rows 17-20
	rewrite := func(f func(recs [][]byte) [][]byte) func(t *testing.T, db *sql.DB) {
		return func(t *testing.T, db *sql.DB) { writeStore(t, db, f(recsOf(readStore(t, db)))) }
	}
	hashAt := func(recs [][]byte, seq int) []byte { r := recs[seq-1]; return r[len(r)-32:] }
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB)
		seq    uint64
		damage Damage
	}{
		{"edit body", rewrite(func(recs [][]byte) [][]byte {
			recs[4] = bytes.Replace(recs[4], []byte("사건"), []byte("사고"), 1)
			return recs
		}), 5, Edited},
		{"edit and rehash", rewrite(func(recs [][]byte) [][]byte {
			b, h := forge(5, hashAt(recs, 4), "다른 목적")
			recs[4] = append(b, h...)
			return recs
		}), 5, Edited},
		{"edit stored hash", rewrite(func(recs [][]byte) [][]byte {
			recs[10][len(recs[10])-1] ^= 1
			return recs
		}), 11, Edited},
		{"delete and renumber", rewrite(func(recs [][]byte) [][]byte {
			return append(recs[:6:6], recs[7:]...)
		}), 7, Missing},
		{"insert forged and renumber", rewrite(func(recs [][]byte) [][]byte {
			b, h := forge(9, hashAt(recs, 8), "위조")
			return append(append(recs[:8:8], append(b, h...)), recs[8:]...)
		}), 9, Inserted},
		{"insert a copy", rewrite(func(recs [][]byte) [][]byte {
			return append(append(recs[:11:11], recs[2]), recs[11:]...)
		}), 12, Inserted},
		{"reorder", rewrite(func(recs [][]byte) [][]byte {
			recs[5], recs[9] = recs[9], recs[5]
			return recs
		}), 6, Reordered},
		{"truncate sealed tail", rewrite(func(recs [][]byte) [][]byte { return recs[:13] }), 14, Truncated},
		{"truncate and delete checkpoints, caught by external file", func(t *testing.T, db *sql.DB) {
			rewrite(func(recs [][]byte) [][]byte { return recs[:13] })(t, db)
			exec(t, db, `DELETE FROM checkpoint WHERE seq>=14`)
		}, 14, Truncated},
		{"rewrite the whole tail", rewrite(func(recs [][]byte) [][]byte {
			prev := hashAt(recs, 9)
			for s := 10; s <= n; s++ {
				b, h := forge(uint64(s), prev, "다시 쓴 기록")
				recs[s-1], prev = append(b, h...), h
			}
			return recs
		}), 9, Edited},
		{"delete a pack", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM pack WHERE first=5`)
		}, 5, Missing},
		{"delete an entry inside a pack", func(t *testing.T, db *sql.DB) {
			recs := recsOf(readStore(t, db))
			b := []byte{packV1}
			for _, i := range []int{4, 5, 7} {
				b = appendPackRecord(b, recs[i])
			}
			exec(t, db, `UPDATE pack SET recs=? WHERE first=5`, b)
		}, 7, Missing},
		{"a row where a pack holds the entry", func(t *testing.T, db *sql.DB) {
			exec(t, db, `INSERT INTO entry(seq, rec) VALUES (3, ?)`, recsOf(readStore(t, db))[2])
		}, 3, Inserted},
		{"overlapping pack", func(t *testing.T, db *sql.DB) {
			exec(t, db, `INSERT INTO pack(first, last, recs) SELECT 6, 9, recs FROM pack WHERE first=5`)
		}, 6, Inserted},
		{"edit a tail entry", rewrite(func(recs [][]byte) [][]byte {
			recs[17] = bytes.Replace(recs[17], []byte("사건"), []byte("사고"), 1)
			return recs
		}), 18, Edited},
		{"delete a tail row", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM tail WHERE first=17`)
		}, 17, Missing},
		{"tail row end edited", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE tail SET last=21 WHERE first=19`)
		}, 19, Edited},
		{"overlapping tail row", func(t *testing.T, db *sql.DB) {
			exec(t, db, `INSERT INTO tail(first, last, recs) SELECT 18, 19, recs FROM tail WHERE first=17`)
		}, 18, Inserted},
		{"an entry row beside the tail", func(t *testing.T, db *sql.DB) {
			exec(t, db, `INSERT INTO entry(seq, rec) VALUES (18, ?)`, recsOf(readStore(t, db))[17])
		}, 18, Inserted},
		{"pack end edited", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE pack SET last=9 WHERE first=5`)
		}, 5, Edited},
		{"pack version edited", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE pack SET recs = x'02' || substr(recs, 2) WHERE first=9`)
		}, 9, Edited},
		{"pack cut short", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE pack SET recs = substr(recs, 1, length(recs) - 10) WHERE first=9`)
		}, 12, Edited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			smallPacks(t)
			dir := t.TempDir()
			l, _ := openTest(t, dir, 8)
			fill(t, l, n)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			opt := VerifyOptions{Dir: dir, CheckpointFile: filepath.Join(dir, "checkpoints.txt")}
			if rep, err := Verify(context.Background(), opt); err != nil || !rep.OK() || rep.Entries != n {
				t.Fatalf("before tampering: %+v %v", rep, err)
			}
			db := rawDB(t, dir)
			if packs, tails, _ := layout(t, db); len(packs) != 4 || len(tails) != 4 {
				t.Fatalf("layout: packs %v tails %v", packs, tails)
			}
			dropTriggers(t, db)
			// Two-entry tail rows, as two-entry commits would leave.
			writeStore(t, db, recsOf(readStore(t, db)))
			if rep, err := Verify(context.Background(), opt); err != nil || !rep.OK() || rep.Entries != n {
				t.Fatalf("rewritten: %+v %v", rep, err)
			}
			tc.tamper(t, db)
			db.Close()
			rep, err := Verify(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("tampering not detected: %+v", rep)
			}
			if rep.Problem.Seq != tc.seq || rep.Problem.Damage != tc.damage {
				t.Fatalf("got %v, want entry %d %v", rep.Problem, tc.seq, tc.damage)
			}
		})
	}
}

// schemaV1 is the schema before packs, frozen: a ledger written by that
// version must still verify, and open.
const schemaV1 = `
CREATE TABLE entry (seq INTEGER PRIMARY KEY, rec BLOB NOT NULL);
CREATE TRIGGER entry_no_update BEFORE UPDATE ON entry
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;
CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: DELETE refused'); END;
CREATE TABLE checkpoint (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL, time_ns INTEGER NOT NULL, key_id TEXT NOT NULL, sig BLOB NOT NULL);
CREATE TRIGGER checkpoint_no_update BEFORE UPDATE ON checkpoint
  BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only: UPDATE refused'); END;
CREATE TRIGGER checkpoint_no_delete BEFORE DELETE ON checkpoint
  BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only: DELETE refused'); END;
`

// writeV1 writes a version 1 ledger of n entries sealed at n.
func writeV1(t *testing.T, dir string, n int) ed25519.PublicKey {
	t.Helper()
	key, err := LoadOrCreateKey(DefaultKeyPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, dir)
	exec(t, db, schemaV1)
	var prev [32]byte
	for i := 1; i <= n; i++ {
		e := sample(i)
		e.Seq, e.Prev, e.Time = uint64(i), prev, t0
		body := Encode(&e)
		prev = sha256Sum(body)
		exec(t, db, `INSERT INTO entry(seq, rec) VALUES (?, ?)`, i, append(body, prev[:]...))
	}
	cp := key.sign(uint64(n), prev, t0)
	exec(t, db, `INSERT INTO checkpoint(seq, hash, time_ns, key_id, sig) VALUES (?, ?, ?, ?, ?)`, n, cp.Hash[:], cp.Time.UnixNano(), cp.KeyID, cp.Sig)
	db.Close()
	return key.Public()
}

// A ledger written before packs verifies as it is (read-only, untouched),
// and Open migrates it: the delete trigger is replaced, the backlog is
// packed, and the chain verifies and continues.
func TestVersion1LedgerVerifiesAndMigrates(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	pub := writeV1(t, dir, 10)
	rep, err := Verify(context.Background(), VerifyOptions{Dir: dir, PublicKey: pub})
	if err != nil || !rep.OK() || rep.Entries != 10 || rep.SignedThrough != 10 {
		t.Fatalf("verify v1: %+v %v", rep, err)
	}
	es, err := QueryDir(context.Background(), dir, Filter{})
	if err != nil || len(es) != 10 {
		t.Fatalf("query v1: %d %v", len(es), err)
	}
	db := rawDB(t, dir)
	var tables int
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name='pack'`).Scan(&tables)
	if tables != 0 {
		t.Fatal("a read-only verify changed the schema")
	}
	// A tampered v1 ledger is still caught.
	exec(t, db, `DROP TRIGGER entry_no_delete`)
	exec(t, db, `DELETE FROM entry WHERE seq=4`)
	rep, err = Verify(context.Background(), VerifyOptions{Dir: dir, PublicKey: pub})
	if err != nil || rep.OK() || rep.Problem.Seq != 4 || rep.Problem.Damage != Missing {
		t.Fatalf("tampered v1: %+v %v", rep.Problem, err)
	}
	db.Close()

	// 302 entries: 75 packs of 4, more than one backlog transaction (64).
	dir = t.TempDir()
	writeV1(t, dir, 302)
	l, _ := openTest(t, dir, 1000)
	db = rawDB(t, dir)
	var v int
	db.QueryRow(`PRAGMA user_version`).Scan(&v)
	packs, tails, rows := layout(t, db)
	if v != schemaVersion || len(packs) != 75 || packs[74] != [2]uint64{297, 300} || len(tails) != 0 || fmt.Sprint(rows) != "[301 302]" {
		t.Fatalf("after migration: version %d, %d packs, tails %v, rows %v", v, len(packs), tails, rows)
	}
	if _, err := db.Exec(`DELETE FROM entry WHERE seq=302`); err == nil {
		t.Fatal("the migrated trigger lets an unpacked row be deleted")
	}
	e, err := l.Append(context.Background(), sample(303))
	if err != nil || e.Seq != 303 {
		t.Fatalf("append after migration: %d %v", e.Seq, err)
	}
	rep, err = l.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Entries != 303 || rep.SignedThrough != 302 {
		t.Fatalf("verify after migration: %+v %v", rep, err)
	}
	// The version 1 rows left are packed with the tail rows after them.
	fill(t, l, 2)
	if packs, tails, rows := layout(t, db); len(packs) != 76 || fmt.Sprint(tails, rows) != "[[305 305]] []" {
		t.Fatalf("after packing across entry and tail rows: %d packs, tails %v, rows %v", len(packs), tails, rows)
	}
	if rep, err = l.Verify(context.Background()); err != nil || !rep.OK() || rep.Entries != 305 {
		t.Fatalf("verify after packing: %+v %v", rep, err)
	}
}

// The CLI may append while the server runs: two writers on one ledger.db
// pack each other's entries into one valid chain.
func TestTwoWritersPack(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	a, _ := openTest(t, dir, 1000)
	b, _ := openTest(t, dir, 1000)
	for i := 0; i < 30; i++ {
		l := a
		if i%3 == 1 {
			l = b
		}
		if e, err := l.Append(context.Background(), sample(i)); err != nil || e.Seq != uint64(i+1) {
			t.Fatalf("append %d: seq %d, %v", i, e.Seq, err)
		}
	}
	packs, tails, _ := layout(t, rawDB(t, dir))
	if len(packs) != 7 || packs[6] != [2]uint64{25, 28} || fmt.Sprint(tails) != "[[29 29] [30 30]]" {
		t.Fatalf("packs %v tails %v", packs, tails)
	}
	rep, err := b.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Entries != 30 {
		t.Fatalf("%+v %v", rep, err)
	}
}

// A newer schema is refused rather than misread.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	l, _ := openTest(t, dir, 1000)
	fill(t, l, 1)
	l.Close()
	exec(t, rawDB(t, dir), fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion+1))
	if _, err := Open(context.Background(), Options{Dir: dir}); err == nil {
		t.Fatal("Open accepted a newer schema version")
	}
	if _, err := Verify(context.Background(), VerifyOptions{Dir: dir}); err == nil {
		t.Fatal("Verify accepted a newer schema version")
	}
}

// walk hands out blobs that stay intact after the call (Verify's workers
// hash them later): pinned because it depends on the driver copying.
func TestWalkDataOutlivesTheCall(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	l, _ := openTest(t, dir, 1000)
	fill(t, l, 23)
	s, err := l.st.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kept [][]byte
	if err := s.Walk(context.Background(), func(u Unit) error { kept = append(kept, u.Data); return nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var fresh [][]byte
	db := rawDB(t, dir)
	for _, q := range []string{`SELECT recs FROM pack ORDER BY first`, `SELECT rec FROM entry ORDER BY seq`, `SELECT recs FROM tail ORDER BY first`} {
		rs, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var b []byte
			rs.Scan(&b)
			fresh = append(fresh, b)
		}
		rs.Close()
	}
	if len(kept) != len(fresh) || len(kept) != 5+3 {
		t.Fatalf("walk gave %d units, the tables hold %d", len(kept), len(fresh))
	}
	for i := range kept {
		if !bytes.Equal(kept[i], fresh[i]) {
			t.Fatalf("unit %d changed after the walk moved on", i)
		}
	}
}

// Verify reads one snapshot: entries moved into packs while it runs are
// never seen twice or missed.
func TestVerifyWhilePacking(t *testing.T) {
	smallPacks(t)
	dir := t.TempDir()
	l, _ := openTest(t, dir, 1000)
	var wg sync.WaitGroup
	defer wg.Wait() // before Cleanup closes the ledger, even after a failure
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if _, err := l.Append(context.Background(), sample(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for checks := 0; ; checks++ {
		rep, err := Verify(context.Background(), VerifyOptions{Dir: dir, PublicKey: l.Key().Public()})
		if err != nil || !rep.OK() {
			t.Fatalf("verify during appends: %+v %v", rep.Problem, err)
		}
		if rep.Entries == 200 || time.Now().After(deadline) {
			break
		}
	}
}
