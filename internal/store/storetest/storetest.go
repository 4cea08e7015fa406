// Package storetest is the conformance suite every store backend must
// pass: TestIndex for an Index (SQLite now, PostgreSQL later) and TestFiles
// for a Files (local disk now, object storage later). A backend's own test
// calls them with a constructor of fresh, empty instances.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

func create(t *testing.T, x store.Index, camera string, start int64, keyID string) store.Row {
	t.Helper()
	// Segments starting on an odd thousand follow a discontinuity.
	r := store.Row{Camera: camera, Start: start, Codec: media.CodecH264, Discontinuity: start/1000%2 == 1}
	err := x.Create(context.Background(), &r, func(id int64) error {
		r.KeyID, r.WrappedKey, r.ParamsSealed = keyID, bytes.Repeat([]byte{byte(id)}, 61), []byte{1, byte(id)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func finish(t *testing.T, x store.Index, r *store.Row, end int64) {
	t.Helper()
	r.End, r.Frames, r.KeyFrames, r.MediaBytes, r.FileBytes = end, 3, 1, 300, 400
	r.SHA256, r.FrameIndex = bytes.Repeat([]byte{9}, 32), []byte{1, 2, 3}
	if err := x.Finish(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// TestIndex checks an Index implementation. newIndex returns a fresh,
// empty index that the suite closes.
func TestIndex(t *testing.T, newIndex func(t *testing.T) store.Index) {
	ctx := context.Background()
	t.Run("CreateFinishGet", func(t *testing.T) {
		x := newIndex(t)
		defer x.Close()
		a := create(t, x, "cam", 1000, "k1")
		b := create(t, x, "cam", 2000, "k1")
		if a.ID <= 0 || b.ID <= a.ID || a.State != store.StateOpen || a.End != a.Start {
			t.Fatalf("created %+v then %+v", a, b)
		}
		if err := x.Create(ctx, &store.Row{Camera: "cam", Start: 5}, func(int64) error { return errors.New("no") }); err == nil {
			t.Fatal("Create succeeded though fill failed")
		}
		if open, _ := x.Open(ctx); len(open) != 2 {
			t.Fatalf("%d open rows after a failed Create, want 2", len(open))
		}
		finish(t, x, &a, 2000)
		if err := x.Finish(ctx, &a); !errs.Is(err, errs.Conflict) {
			t.Errorf("finishing a closed row: %v", err)
		}
		g, err := x.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.State != store.StateClosed || g.End != 2000 || g.Frames != 3 || g.KeyFrames != 1 || g.MediaBytes != 300 ||
			g.FileBytes != 400 || !bytes.Equal(g.SHA256, a.SHA256) || !bytes.Equal(g.FrameIndex, a.FrameIndex) ||
			g.KeyID != "k1" || !bytes.Equal(g.WrappedKey, a.WrappedKey) || !bytes.Equal(g.ParamsSealed, a.ParamsSealed) ||
			!g.Discontinuity || g.Codec != media.CodecH264 || g.Camera != "cam" || g.Start != 1000 {
			t.Errorf("Get returned %+v, stored %+v", g, a)
		}
		if open, _ := x.Open(ctx); len(open) != 1 || open[0].ID != b.ID {
			t.Errorf("open rows %+v", open)
		}
		if _, err := x.Get(ctx, 999); !errs.Is(err, errs.NotExist) {
			t.Errorf("Get of a missing id: %v", err)
		}
		if err := x.Delete(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Get(ctx, b.ID); !errs.Is(err, errs.NotExist) {
			t.Errorf("Get after Delete: %v", err)
		}
	})
	t.Run("List", func(t *testing.T) {
		x := newIndex(t)
		defer x.Close()
		a := create(t, x, "cam", 1000, "k")
		finish(t, x, &a, 2000)
		b := create(t, x, "cam", 2000, "k")
		finish(t, x, &b, 3000)
		o := create(t, x, "cam", 3000, "k") // open
		other := create(t, x, "zeta", 1500, "k")
		finish(t, x, &other, 2500)
		ids := func(rs []store.Row) (out []int64) {
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out
		}
		for _, c := range []struct {
			camera     string
			start, end int64
			want       []int64
		}{
			{"cam", 0, 1000, nil},
			{"cam", 0, 1001, []int64{a.ID}},
			{"cam", 2000, 2001, []int64{b.ID}},
			{"cam", 1999, 2001, []int64{a.ID, b.ID}},
			{"cam", 5000, 6000, []int64{o.ID}},
			{"cam", 0, 3000, []int64{a.ID, b.ID}},
			{"", 1400, 1600, []int64{a.ID, other.ID}},
		} {
			rs, err := x.List(ctx, c.camera, c.start, c.end)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rs); !equal(got, c.want) {
				t.Errorf("List(%q, %d, %d) = %v, want %v", c.camera, c.start, c.end, got, c.want)
			}
		}
		cs, err := x.Cameras(ctx)
		if err != nil || len(cs) != 2 || cs[0].Camera != "cam" || cs[0].Oldest != 1000 || cs[0].Segments != 3 ||
			cs[1].Newest != 2500 {
			t.Errorf("Cameras = %+v, %v", cs, err)
		}
	})
	t.Run("TrashGarbageForget", func(t *testing.T) {
		x := newIndex(t)
		defer x.Close()
		a := create(t, x, "cam", 1000, "k")
		finish(t, x, &a, 2000)
		b := create(t, x, "cam", 2000, "k")
		finish(t, x, &b, 3000)
		nb := create(t, x, "cam", 4000, "k") // no discontinuity
		finish(t, x, &nb, 5000)
		if r, _ := x.Get(ctx, nb.ID); r == nil || r.Discontinuity {
			t.Fatalf("segment at 4000 has a discontinuity before the test: %+v", r)
		}
		if _, err := x.Trash(ctx, []int64{a.ID, 999}, 5); !errs.Is(err, errs.NotExist) {
			t.Fatalf("Trash with a missing id: %v", err)
		}
		if _, err := x.Get(ctx, a.ID); err != nil {
			t.Fatalf("a failed Trash changed the index: %v", err)
		}
		bb := create(t, x, "cam", 3000, "k")
		finish(t, x, &bb, 4000)
		g, err := x.Trash(ctx, []int64{a.ID, bb.ID}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(g) != 2 || g[0].SegmentID != a.ID || g[0].Camera != "cam" || g[0].Start != 1000 || g[0].End != 2000 ||
			g[0].FileBytes != 400 || len(g[0].SHA256) != 32 || g[0].KeyID != "k" || g[0].Destroyed != 5 || g[1].SHA256 == nil {
			t.Errorf("Trash = %+v", g)
		}
		if _, err := x.Get(ctx, a.ID); !errs.Is(err, errs.NotExist) {
			t.Errorf("trashed row still there: %v", err)
		}
		if r, _ := x.Get(ctx, nb.ID); r == nil || !r.Discontinuity {
			t.Errorf("segment after a trashed one has no discontinuity: %+v", r)
		}
		if gl, _ := x.Garbage(ctx); len(gl) != 2 {
			t.Errorf("garbage %+v", gl)
		}
		if err := x.Forget(ctx, []int64{a.ID}); err != nil {
			t.Fatal(err)
		}
		if gl, _ := x.Garbage(ctx); len(gl) != 1 || gl[0].SegmentID != bb.ID {
			t.Errorf("garbage after Forget %+v", gl)
		}
		// Ids are never reused: they are in receipts and AADs.
		if r, _ := x.Get(ctx, b.ID); r == nil || !r.Discontinuity {
			t.Errorf("segment after trashed segment %d has no discontinuity: %+v", a.ID, r)
		}
		c := create(t, x, "cam", 6000, "k")
		if c.ID <= nb.ID {
			t.Errorf("id %d reused after destroying %d", c.ID, bb.ID)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		x := newIndex(t)
		defer x.Close()
		a := create(t, x, "cam", 2000, "k") // no discontinuity
		finish(t, x, &a, 4000)
		next := create(t, x, "cam", 4000, "k")
		finish(t, x, &next, 5000)
		head := store.Row{Camera: "cam", Start: 2000, Codec: media.CodecH264, State: store.StateReplacing}
		fill := func(r *store.Row) func(int64) error {
			return func(id int64) error {
				r.KeyID, r.WrappedKey, r.ParamsSealed = "k2", []byte{1}, []byte{1}
				return nil
			}
		}
		if err := x.Create(ctx, &head, fill(&head)); err != nil {
			t.Fatal(err)
		}
		if head.State != store.StateReplacing {
			t.Fatalf("created as %v", head.State)
		}
		if open, _ := x.Open(ctx); len(open) != 1 || open[0].ID != head.ID {
			t.Errorf("Open = %+v, want the replacing row", open)
		}
		if rs, _ := x.List(ctx, "cam", 2000, 2500); len(rs) != 1 || rs[0].ID != a.ID {
			t.Errorf("List shows a replacement before it replaces: %+v", rs)
		}
		if _, err := x.Replace(ctx, a.ID, []*store.Row{&next}, 9); !errs.Is(err, errs.Conflict) {
			t.Errorf("Replace with a closed row as replacement: %v", err)
		}
		finish := head
		finish.End, finish.Frames, finish.FileBytes = 3000, 1, 99
		g, err := x.Replace(ctx, a.ID, []*store.Row{&finish}, 9)
		if err != nil || g.SegmentID != a.ID || g.Destroyed != 9 {
			t.Fatalf("Replace = %+v, %v", g, err)
		}
		if r, _ := x.Get(ctx, head.ID); r == nil || r.State != store.StateClosed || r.End != 3000 || r.FileBytes != 99 {
			t.Errorf("replacement after Replace: %+v", r)
		}
		if _, err := x.Get(ctx, a.ID); !errs.Is(err, errs.NotExist) {
			t.Errorf("original after Replace: %v", err)
		}
		// The head ends at 3000, not where the original ended: a gap.
		if r, _ := x.Get(ctx, next.ID); r == nil || !r.Discontinuity {
			t.Errorf("segment after the cut has no discontinuity: %+v", r)
		}
	})
	t.Run("BriefsAndBytes", func(t *testing.T) {
		x := newIndex(t)
		defer x.Close()
		a := create(t, x, "b", 1000, "k")
		finish(t, x, &a, 2000)
		c := create(t, x, "a", 1500, "k")
		finish(t, x, &c, 2500)
		d := create(t, x, "b", 2000, "k")
		finish(t, x, &d, 3000)
		create(t, x, "b", 3000, "k") // open: never listed
		ids := func(bs []store.Brief) []int64 {
			var out []int64
			for _, b := range bs {
				out = append(out, b.ID)
			}
			return out
		}
		if bs, err := x.Briefs(ctx, "", 1<<62, 0); err != nil || !equal(ids(bs), []int64{a.ID, c.ID, d.ID}) {
			t.Errorf("Briefs of every camera = %v, %v; want oldest first %v", ids(bs), err, []int64{a.ID, c.ID, d.ID})
		}
		if bs, _ := x.Briefs(ctx, "b", 2999, 0); !equal(ids(bs), []int64{a.ID}) {
			t.Errorf("Briefs(b, end <= 2999) = %v, want %v", ids(bs), []int64{a.ID})
		}
		if bs, _ := x.Briefs(ctx, "", 1<<62, 2); !equal(ids(bs), []int64{a.ID, c.ID}) {
			t.Errorf("Briefs limit 2 = %v", ids(bs))
		} else if bs[0].Camera != "b" || bs[0].Start != 1000 || bs[0].End != 2000 || bs[0].Bytes != 400 ||
			len(bs[0].SHA256) != 32 || bs[0].KeyID != "k" || len(bs[0].WrappedKey) != 61 {
			t.Errorf("brief %+v", bs[0])
		}
		cs, err := x.Cameras(ctx)
		if err != nil || len(cs) != 2 || cs[0].Camera != "a" || cs[0].Bytes != 400 || cs[1].Bytes != 800 || cs[1].Segments != 3 {
			t.Errorf("Cameras = %+v, %v", cs, err)
		}
		if _, err := x.Trash(ctx, []int64{a.ID, a.ID}, 1); err == nil {
			t.Error("Trash accepted an id listed twice")
		}
		if r, _ := x.Get(ctx, a.ID); r == nil {
			t.Error("a failed Trash removed a row")
		}
		open, _ := x.Open(ctx)
		if _, err := x.Trash(ctx, []int64{a.ID, open[0].ID}, 1); !errs.Is(err, errs.Conflict) {
			t.Errorf("Trash of an open row: %v, want a conflict", err)
		}
		if r, _ := x.Get(ctx, a.ID); r == nil {
			t.Error("a refused Trash removed a row")
		}
	})
	t.Run("Rewrap", func(t *testing.T) {
		x := newIndex(t)
		defer x.Close()
		a := create(t, x, "cam", 1000, "old")
		b := create(t, x, "cam", 2000, "old")
		create(t, x, "cam", 3000, "new")
		rs, err := x.NotUnder(ctx, "new", 1)
		if err != nil || len(rs) != 1 || rs[0].ID != a.ID {
			t.Fatalf("NotUnder = %+v, %v", rs, err)
		}
		w := bytes.Repeat([]byte{7}, 61)
		err = x.Rewrap(ctx, []store.KeyUpdate{
			{ID: a.ID, OldKeyID: "old", KeyID: "new", WrappedKey: w},
			{ID: b.ID, OldKeyID: "stale", KeyID: "new", WrappedKey: w}, // changed meanwhile: left alone
		})
		if err != nil {
			t.Fatal(err)
		}
		ga, _ := x.Get(ctx, a.ID)
		gb, _ := x.Get(ctx, b.ID)
		if ga.KeyID != "new" || !bytes.Equal(ga.WrappedKey, w) || gb.KeyID != "old" {
			t.Errorf("after Rewrap: %s %s", ga.KeyID, gb.KeyID)
		}
		if rs, _ := x.NotUnder(ctx, "new", 10); len(rs) != 1 || rs[0].ID != b.ID {
			t.Errorf("NotUnder after Rewrap = %+v", rs)
		}
	})
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFiles checks a Files implementation. newFiles returns a fresh, empty
// instance.
func TestFiles(t *testing.T, newFiles func(t *testing.T) store.Files) {
	t.Run("WriteReadTruncateRemove", func(t *testing.T) {
		fs := newFiles(t)
		f, err := fs.Create("cam", 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Create("cam", 1); !errs.Is(err, errs.Exist) {
			t.Errorf("creating an existing file: %v", err)
		}
		if _, err := fs.Create("../x", 2); err == nil {
			t.Error("created a file for an invalid camera id")
		}
		f.Write([]byte("hello "))
		f.Write([]byte("world, and more"))
		if err := f.Truncate(11); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := fs.Open("cam", 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		r.Close()
		if err != nil || string(b) != "hello world" {
			t.Fatalf("read %q, %v", b, err)
		}
		if err := fs.Truncate("cam", 1, 5); err != nil {
			t.Fatal(err)
		}
		refs, err := fs.List()
		if err != nil || len(refs) != 1 || refs[0] != (store.FileRef{Camera: "cam", ID: 1, Size: 5}) {
			t.Fatalf("List = %+v, %v", refs, err)
		}
		if err := fs.Remove("cam", 1); err != nil {
			t.Fatal(err)
		}
		if err := fs.Remove("cam", 1); err != nil {
			t.Errorf("removing an absent file: %v", err)
		}
		if err := fs.SyncDir("cam"); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Open("cam", 1); !errs.Is(err, errs.NotExist) {
			t.Errorf("opening a removed file: %v", err)
		}
		if refs, _ := fs.List(); len(refs) != 0 {
			t.Errorf("List after Remove = %+v", refs)
		}
	})
	t.Run("ReadWhileWriting", func(t *testing.T) {
		// Playback reads an open segment's written chunks before the
		// writer syncs or closes it.
		fs := newFiles(t)
		f, err := fs.Create("cam", 7)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.Write([]byte("chunk one"))
		r, err := fs.Open("cam", 7)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b := make([]byte, 9)
		if _, err := r.ReadAt(b, 0); err != nil || string(b) != "chunk one" {
			t.Errorf("read %q, %v", b, err)
		}
	})
}
