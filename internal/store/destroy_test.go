package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

// walBytes returns index.db and index.db-wal as they are on disk now, the
// store still open.
func walBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range []string{"index.db", "index.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// TestDestructionSettlesOnce destroys two batches and settles them once:
// between the batches the garbage list holds every destroyed segment (so a
// crash is finished by Open), and after Settle — with the store still open,
// before any close could checkpoint — no destroyed wrapped key is left in
// index.db or its WAL, no file remains and the garbage list is empty.
func TestDestructionSettlesOnce(t *testing.T) {
	e, segs := recorded(t)
	s := e.open()
	defer s.Close()
	ctx := context.Background()
	var wrapped [][]byte
	for _, sg := range segs[:3] {
		r, _ := s.idx.Get(ctx, sg.ID)
		wrapped = append(wrapped, r.WrappedKey)
	}
	kept, _ := s.idx.Get(ctx, segs[len(segs)-1].ID)
	if len(segs) < 4 {
		kept = nil
	}
	d := s.NewDestruction()
	if _, err := d.Destroy(ctx, []int64{segs[0].ID, segs[1].ID}); err != nil {
		t.Fatal(err)
	}
	res, err := d.Destroy(ctx, []int64{segs[2].ID})
	if err != nil || len(res.Segments) != 1 || res.Segments[0].ID != segs[2].ID {
		t.Fatalf("second batch: %+v, %v", res, err)
	}
	if g, _ := s.idx.Garbage(ctx); len(g) != 3 {
		t.Errorf("before Settle the garbage list has %d entries, want 3", len(g))
	}
	for _, sg := range segs[:3] {
		if _, err := s.OpenSegment(ctx, sg.ID); !errs.Is(err, errs.NotExist) {
			t.Errorf("segment %d readable after its batch: %v", sg.ID, err)
		}
	}
	if err := d.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.idx.Garbage(ctx); len(g) != 0 {
		t.Errorf("after Settle the garbage list has %d entries", len(g))
	}
	for _, sg := range segs[:3] {
		if _, err := os.Stat(filepath.Join(e.dir, "segments", "cam", itoa(sg.ID)+".gws")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("file of %d remains after Settle", sg.ID)
		}
	}
	// The WAL was emptied before the garbage entries were forgotten; what
	// it holds now is those deletions, never a destroyed key.
	files := walBytes(t, e.dir)
	for name, b := range files {
		for i, w := range wrapped {
			if bytes.Contains(b, w) {
				t.Errorf("wrapped key of destroyed segment %d still in %s", segs[i].ID, name)
			}
		}
	}
	if kept != nil && !bytes.Contains(files["index.db"], kept.WrappedKey) {
		t.Error("the scan does not find a kept segment's wrapped key either")
	}
	// Settling again has nothing to do.
	if err := d.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDestructionCrashBetweenBatches kills the process after one batch of
// a multi-batch destruction, before Settle: Open finishes it and check is
// clean; the next batch's segment is untouched.
func TestDestructionCrashBetweenBatches(t *testing.T) {
	e, segs := recorded(t)
	s := e.open()
	ctx := context.Background()
	d := s.NewDestruction()
	if _, err := d.Destroy(ctx, []int64{segs[0].ID, segs[1].ID}); err != nil {
		t.Fatal(err)
	}
	d.Settle(ctx) // waits for the unlinks in flight, as a crash might not
	s.abandon()
	s = e.open()
	rest, _ := s.Segments(ctx, "cam", 0, 1<<62)
	if len(rest) != len(segs)-2 || rest[0].ID != segs[2].ID {
		t.Errorf("after recovery %+v", rest)
	}
	s.Close()
	e.check(true)
}

// TestDestructionBadBatch: a batch naming a missing segment fails and
// changes nothing; the batches before it still settle.
func TestDestructionBadBatch(t *testing.T) {
	e, segs := recorded(t)
	s := e.open()
	ctx := context.Background()
	d := s.NewDestruction()
	if _, err := d.Destroy(ctx, []int64{segs[0].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Destroy(ctx, []int64{segs[1].ID, 999999}); !errs.Is(err, errs.NotExist) {
		t.Errorf("batch with a missing id: %v", err)
	}
	if err := d.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.Segments(ctx, "cam", 0, 1<<62)
	if len(rest) != len(segs)-1 || rest[0].ID != segs[1].ID {
		t.Errorf("left %+v", rest)
	}
	s.Close()
	e.check(true)
}
