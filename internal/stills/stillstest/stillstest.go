// Package stillstest is the conformance suite every still store must pass
// (the SQLite one now; one on object storage or PostgreSQL later). A store's
// own test calls Run with a constructor of fresh, empty stores.
package stillstest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/stills"
)

// T0 is the suite's reference time.
var T0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// JPEG is recognisable plaintext: a sealed file must not contain it.
var JPEG = append([]byte{0xFF, 0xD8}, []byte(strings.Repeat("PLAINTEXT-PICTURE-", 50))...)

// Run checks a Store implementation. newStore returns a fresh, empty store
// that the suite closes.
func Run(t *testing.T, newStore func(t *testing.T) stills.Store) {
	ctx := context.Background()
	put := func(t *testing.T, s stills.Store, camera string, at time.Time, findings []string) stills.Still {
		t.Helper()
		st, err := s.Put(ctx, camera, at, JPEG, findings)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	ids := func(ss []stills.Still) []int64 {
		var out []int64
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}

	t.Run("PutGetImage", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		rec := T0.Add(-time.Minute)
		st := put(t, s, "cam1", rec, []string{"black picture"})
		if st.ID <= 0 || st.Camera != "cam1" || !st.RecordedAt.Equal(rec) || st.Bytes <= int64(len(JPEG)) ||
			len(st.SHA256) != 32 || st.KeyID == "" || len(st.Findings) != 1 {
			t.Fatalf("Put returned %+v", st)
		}
		g, err := s.Get(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.ID != st.ID || g.Camera != "cam1" || !g.RecordedAt.Equal(rec) || g.Bytes != st.Bytes ||
			!bytes.Equal(g.SHA256, st.SHA256) || g.KeyID != st.KeyID || len(g.Findings) != 1 || g.Findings[0] != "black picture" {
			t.Fatalf("Get returned %+v, Put %+v", g, st)
		}
		got, img, err := s.Image(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img, JPEG) || got.ID != st.ID || !got.RecordedAt.Equal(rec) {
			t.Fatalf("Image returned %+v and %d bytes", got, len(img))
		}
		good := put(t, s, "cam1", rec.Add(time.Second), nil)
		if g, _ := s.Get(ctx, good.ID); len(g.Findings) != 0 {
			t.Errorf("a good picture has findings %v", g.Findings)
		}
	})

	t.Run("InvalidPut", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		for _, c := range []struct {
			camera string
			at     time.Time
			jpeg   []byte
		}{{"", T0, JPEG}, {"cam1", time.Time{}, JPEG}, {"cam1", T0, nil}} {
			if _, err := s.Put(ctx, c.camera, c.at, c.jpeg, nil); !errs.Is(err, errs.Invalid) {
				t.Errorf("Put(%q, %v, %d bytes): %v, want Invalid", c.camera, c.at, len(c.jpeg), err)
			}
		}
	})

	t.Run("ListByCameraAndTime", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		late := put(t, s, "cam1", T0.Add(2*time.Hour), nil)
		early := put(t, s, "cam1", T0, nil)
		put(t, s, "cam2", T0, nil)
		edge := put(t, s, "cam1", T0.Add(3*time.Hour), nil)
		list, err := s.List(ctx, "cam1", T0, T0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(list); len(got) != 2 || got[0] != early.ID || got[1] != late.ID {
			t.Fatalf("List [T0, T0+3h) = %v, want %d then %d (oldest first, end exclusive, %d outside)",
				got, early.ID, late.ID, edge.ID)
		}
		if l, err := s.List(ctx, "cam3", T0.Add(-time.Hour), T0.Add(time.Hour)); err != nil || len(l) != 0 {
			t.Fatalf("List of a camera without stills: %v %v", l, err)
		}
	})

	t.Run("UnknownID", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		if _, err := s.Get(ctx, 999); !errs.Is(err, errs.NotExist) {
			t.Errorf("Get: %v", err)
		}
		if _, _, err := s.Image(ctx, 999); !errs.Is(err, errs.NotExist) {
			t.Errorf("Image: %v", err)
		}
		if _, err := s.Delete(ctx, 999); !errs.Is(err, errs.NotExist) {
			t.Errorf("Delete: %v", err)
		}
	})

	t.Run("DeleteAndDestroyBefore", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		old := put(t, s, "cam1", T0.Add(-48*time.Hour), nil)
		older := put(t, s, "cam1", T0.Add(-72*time.Hour), nil)
		keep := put(t, s, "cam1", T0, nil)
		other := put(t, s, "cam2", T0.Add(-48*time.Hour), nil)
		gone, err := s.DestroyBefore(ctx, "cam1", T0.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(gone); len(got) != 2 || got[0] != older.ID || got[1] != old.ID {
			t.Fatalf("DestroyBefore returned %v, want %d then %d", got, older.ID, old.ID)
		}
		for _, g := range gone {
			if len(g.SHA256) != 32 || g.KeyID == "" || g.Bytes == 0 || g.Camera != "cam1" {
				t.Errorf("destroyed still described as %+v: a destruction record needs its hash, key and size", g)
			}
			if _, _, err := s.Image(ctx, g.ID); !errs.Is(err, errs.NotExist) {
				t.Errorf("destroyed still %d: %v", g.ID, err)
			}
		}
		if again, err := s.DestroyBefore(ctx, "cam1", T0.Add(-24*time.Hour)); err != nil || len(again) != 0 {
			t.Errorf("second DestroyBefore: %v %v", again, err)
		}
		for _, id := range []int64{keep.ID, other.ID} {
			if _, _, err := s.Image(ctx, id); err != nil {
				t.Fatalf("still %d lost: %v", id, err)
			}
		}
		d, err := s.Delete(ctx, keep.ID)
		if err != nil || d.ID != keep.ID || !bytes.Equal(d.SHA256, keep.SHA256) {
			t.Fatalf("Delete returned %+v %v", d, err)
		}
		if _, err := s.Delete(ctx, keep.ID); !errs.Is(err, errs.NotExist) {
			t.Fatalf("second Delete: %v", err)
		}
		if l, _ := s.List(ctx, "cam1", T0.Add(-100*time.Hour), T0.Add(time.Hour)); len(l) != 0 {
			t.Fatalf("cam1 still lists %v", ids(l))
		}
		// Ids are never reused.
		n := put(t, s, "cam1", T0, nil)
		if n.ID <= other.ID {
			t.Fatalf("id %d reused (the last was %d)", n.ID, other.ID)
		}
	})
}
