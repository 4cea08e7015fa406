// Package ledgertest is the conformance suite every ledger.Store
// implementation passes: SQLite now, PostgreSQL later. A backend's own test
// calls TestStore with a constructor of fresh, empty instances.
package ledgertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ledger"
)

// Instance is a fresh, empty store, and for a store in SQL, a way to run
// a statement on its database as someone with access to the file would.
type Instance struct {
	Store ledger.Store
	// Exec runs one statement on the store's database; nil skips the
	// append-only checks (a store that has no such access).
	Exec func(q string) error
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// chain builds the records n+1..n+k following prev, as the ledger would.
func chain(n uint64, prev [32]byte, k int) []ledger.Record {
	out := make([]ledger.Record, 0, k)
	for i := range k {
		e := ledger.Entry{Seq: n + uint64(i) + 1, Prev: prev, Time: t0.Add(time.Duration(n+uint64(i)) * time.Second),
			Kind: ledger.Playback, Actor: "kim", Site: "main", Cameras: []string{"cam1"}, Purpose: fmt.Sprintf("확인 %d", n+uint64(i)+1)}
		b := ledger.Encode(&e)
		h := sha256.Sum256(b)
		out = append(out, ledger.Record{Seq: e.Seq, Body: b, Hash: h})
		prev = h
	}
	return out
}

// appendN appends k records after the stored head, in one Append.
func appendN(t *testing.T, st ledger.Store, k int, cp func(last ledger.Record) *ledger.Checkpoint) []ledger.Record {
	t.Helper()
	var recs []ledger.Record
	err := st.Append(context.Background(), func(h ledger.Head) (ledger.Batch, error) {
		recs = chain(h.Seq, h.Hash, k)
		b := ledger.Batch{Records: recs}
		if cp != nil {
			b.Checkpoint = cp(recs[len(recs)-1])
		}
		return b, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// walk returns every record of a snapshot, and its units.
func walk(t *testing.T, s ledger.Snapshot) ([]ledger.Record, []ledger.Unit) {
	t.Helper()
	var recs []ledger.Record
	var units []ledger.Unit
	err := s.Walk(context.Background(), func(u ledger.Unit) error {
		units = append(units, u)
		rs, err := u.Records(nil)
		recs = append(recs, rs...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, units
}

func snapshot(t *testing.T, st ledger.Store) ledger.Snapshot {
	t.Helper()
	s, err := st.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestStore checks a Store implementation. newStore returns a fresh,
// empty instance; the suite closes it.
func TestStore(t *testing.T, newStore func(t *testing.T) Instance) {
	ctx := context.Background()
	t.Run("Empty", func(t *testing.T) {
		st := newStore(t).Store
		defer st.Close()
		if h, err := st.Head(ctx); err != nil || h.Seq != 0 {
			t.Fatalf("head of an empty store: %+v %v", h, err)
		}
		if _, ok, err := st.LastCheckpoint(ctx); ok || err != nil {
			t.Fatalf("checkpoint in an empty store: %v %v", ok, err)
		}
		if id, err := st.CurrentKeyID(ctx); id != "" || err != nil {
			t.Fatalf("key of an empty store: %q %v", id, err)
		}
		s := snapshot(t, st)
		if n, err := s.LastSeq(ctx); n != 0 || err != nil {
			t.Fatalf("last seq %d %v", n, err)
		}
		if recs, _ := walk(t, s); len(recs) != 0 {
			t.Fatalf("walked %d records", len(recs))
		}
	})

	t.Run("AppendPacksAndWalks", func(t *testing.T) {
		st := newStore(t).Store
		defer st.Close()
		var all []ledger.Record
		// Batches of every size, one crossing several pack ends.
		for _, k := range []int{1, 1, 7, 100, 300, 1, 190} {
			all = append(all, appendN(t, st, k, nil)...)
		}
		h, err := st.Head(ctx)
		if err != nil || h.Seq != 600 || h.Hash != all[599].Hash || !bytes.Equal(h.Body, all[599].Body) {
			t.Fatalf("head %d %v", h.Seq, err)
		}
		s := snapshot(t, st)
		recs, units := walk(t, s)
		if len(recs) != len(all) {
			t.Fatalf("walked %d records, stored %d", len(recs), len(all))
		}
		for i := range recs {
			if recs[i].Seq != all[i].Seq || recs[i].Hash != all[i].Hash || !bytes.Equal(recs[i].Body, all[i].Body) {
				t.Fatalf("record %d walked as %d, not byte for byte", all[i].Seq, recs[i].Seq)
			}
		}
		// Layout (docs/design/ledger.md, invariant 9): packs of 256 from
		// entry 1, then unpacked rows, the newest entry never packed.
		packs := 0
		for i, u := range units {
			if u.Table != "pack" {
				continue
			}
			packs++
			if !u.Packed || u.First != uint64(256*i+1) || u.Last != uint64(256*(i+1)) {
				t.Errorf("pack %d: %s first %d last %d", i, u.Table, u.First, u.Last)
			}
		}
		if packs != 2 {
			t.Errorf("%d packs of 600 entries, want 2", packs)
		}
		for i := 1; i < len(units); i++ {
			if units[i].First <= units[i-1].First {
				t.Errorf("units out of order: %d after %d", units[i].First, units[i-1].First)
			}
		}
		if n, err := s.LastSeq(ctx); n != 600 || err != nil {
			t.Fatalf("last seq %d %v", n, err)
		}
		// A walk stops at fn's error and returns it.
		stop := errors.New("stop")
		calls := 0
		if err := s.Walk(ctx, func(ledger.Unit) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("walk after an error: %d calls, %v", calls, err)
		}
	})

	t.Run("FailedBuildStoresNothing", func(t *testing.T) {
		st := newStore(t).Store
		defer st.Close()
		appendN(t, st, 3, nil)
		bad := errors.New("refused")
		err := st.Append(ctx, func(h ledger.Head) (ledger.Batch, error) { return ledger.Batch{}, bad })
		if !errors.Is(err, bad) {
			t.Fatalf("build error: %v", err)
		}
		if h, _ := st.Head(ctx); h.Seq != 3 {
			t.Fatalf("head %d after a failed append", h.Seq)
		}
		// The head handed to build is the stored one.
		st.Append(ctx, func(h ledger.Head) (ledger.Batch, error) {
			if h.Seq != 3 {
				t.Errorf("build got head %d, want 3", h.Seq)
			}
			return ledger.Batch{}, bad
		})
	})

	t.Run("Checkpoints", func(t *testing.T) {
		st := newStore(t).Store
		defer st.Close()
		cp := func(r ledger.Record) *ledger.Checkpoint {
			return &ledger.Checkpoint{Seq: r.Seq, Hash: r.Hash, Time: t0, KeyID: "0011223344556677", Sig: []byte{1, 2, 3}}
		}
		recs := appendN(t, st, 5, cp)
		more := appendN(t, st, 5, nil)
		c := ledger.Checkpoint{Seq: 10, Hash: more[4].Hash, Time: t0.Add(time.Minute), KeyID: "8899aabbccddeeff", Sig: []byte{4}}
		if added, err := st.AddCheckpoint(ctx, c); !added || err != nil {
			t.Fatalf("add: %v %v", added, err)
		}
		c2 := c
		c2.Time, c2.Sig = t0.Add(2*time.Minute), []byte{5}
		if added, err := st.AddCheckpoint(ctx, c2); added || err != nil {
			t.Fatalf("a second checkpoint of entry 10: added %v %v", added, err)
		}
		last, ok, err := st.LastCheckpoint(ctx)
		if !ok || err != nil || last.Seq != 10 || !last.Time.Equal(c.Time) || !bytes.Equal(last.Sig, c.Sig) || last.KeyID != c.KeyID {
			t.Fatalf("last checkpoint %+v %v %v", last, ok, err)
		}
		if id, _ := st.CurrentKeyID(ctx); id != c.KeyID {
			t.Fatalf("current key %q, want the last checkpoint's", id)
		}
		cps, err := snapshot(t, st).Checkpoints(ctx)
		if err != nil || len(cps) != 2 || cps[0].Seq != 5 || cps[0].Hash != recs[4].Hash || cps[1].Seq != 10 {
			t.Fatalf("checkpoints %+v %v", cps, err)
		}
	})

	t.Run("SnapshotIsIsolated", func(t *testing.T) {
		st := newStore(t).Store
		defer st.Close()
		appendN(t, st, 255, nil)
		s := snapshot(t, st)
		appendN(t, st, 10, nil) // packs entries the snapshot saw unpacked
		recs, _ := walk(t, s)
		if n, _ := s.LastSeq(ctx); n != 255 || len(recs) != 255 {
			t.Fatalf("snapshot sees %d records, last %d; want the 255 of its moment", len(recs), n)
		}
		if recs, _ := walk(t, snapshot(t, st)); len(recs) != 265 {
			t.Fatalf("a new snapshot sees %d records", len(recs))
		}
	})

	t.Run("LedgerOverStore", func(t *testing.T) {
		in := newStore(t)
		dir := t.TempDir()
		clk := clock.NewFake(t0)
		l, err := ledger.Open(ctx, ledger.Options{Dir: dir, KeyPath: filepath.Join(dir, "k", "ledger.key"), Store: in.Store,
			CheckpointEvery: 100, CheckpointInterval: time.Hour, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for i := range 300 {
			e := ledger.Entry{Kind: ledger.Playback, Actor: "kim", Site: []string{"hq", "branch"}[i%2], Purpose: "확인"}
			if i%10 == 0 {
				e = ledger.Entry{Kind: ledger.Login, Actor: "lee"}
			}
			if _, err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		old := l.Key().ID
		if _, err := l.RotateKey(ctx, "root", ""); err != nil {
			t.Fatal(err)
		}
		if id, _ := in.Store.CurrentKeyID(ctx); id == old || id != l.Key().ID {
			t.Fatalf("current key %q after rotating from %s to %s", id, old, l.Key().ID)
		}
		rots, err := snapshot(t, in.Store).Rotations(ctx)
		if err != nil || len(rots) != 1 || rots[0].Seq != 301 {
			t.Fatalf("rotations %+v %v", rots, err)
		}
		if _, err := l.Append(ctx, ledger.Entry{Kind: ledger.Logout, Actor: "lee"}); err != nil {
			t.Fatal(err)
		}
		if err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := l.Verify(ctx)
		if err != nil || !rep.OK() || rep.Entries != 302 || rep.SignedThrough != 302 || len(rep.Keys) != 2 {
			t.Fatalf("verify: %v %+v %v", rep.Problem, rep, err)
		}
		es, err := l.Query(ctx, ledger.Filter{Site: "hq", Official: true})
		if err != nil || len(es) != 120 {
			t.Fatalf("query hq: %d %v", len(es), err)
		}
		for _, e := range es {
			if e.Site != "hq" || e.Kind != ledger.Playback {
				t.Fatalf("query returned %+v", e)
			}
		}
	})

	t.Run("AppendOnly", func(t *testing.T) {
		in := newStore(t)
		defer in.Store.Close()
		if in.Exec == nil {
			t.Skip("the store gives no access to its database")
		}
		appendN(t, in.Store, 300, func(r ledger.Record) *ledger.Checkpoint {
			return &ledger.Checkpoint{Seq: r.Seq, Hash: r.Hash, Time: t0, KeyID: "00", Sig: []byte{1}}
		})
		for _, q := range []string{
			`UPDATE pack SET last = last`, `DELETE FROM pack`,
			`UPDATE tail SET last = last`, `DELETE FROM tail`,
			`UPDATE checkpoint SET seq = seq`, `DELETE FROM checkpoint`,
			`UPDATE rotation SET seq = seq`,
		} {
			if err := in.Exec(q); err == nil {
				if q != `UPDATE rotation SET seq = seq` { // no row: nothing to refuse
					t.Errorf("%s succeeded", q)
				}
			}
		}
		if recs, _ := walk(t, snapshot(t, in.Store)); len(recs) != 300 {
			t.Errorf("%d records after refused changes", len(recs))
		}
	})
}
