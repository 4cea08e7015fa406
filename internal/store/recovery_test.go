package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// crashed returns a data directory whose recorder was killed while writing
// 140 frames (5 complete chunks of 25 and 15 frames in memory), the
// segment file's path, its chunks, and the frames written.
func crashed(t *testing.T) (string, string, []seal.ChunkRef, []*media.Frame) {
	e := newEnv(t)
	e.cfg.SegmentDuration = time.Minute
	s := e.open()
	w, _ := s.Writer("cam")
	in := frames(t, media.CodecH264, t0, 140)
	write(t, w, in)
	segs, _ := s.Segments(context.Background(), "cam", 0, 1<<62)
	s.abandon()
	path := filepath.Join(e.dir, "segments", "cam", "1.gws")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 1 || !segs[0].Open {
		t.Fatalf("before the crash: %+v", segs)
	}
	var chunks []seal.ChunkRef
	for off := int64(seal.HeaderSize); off < int64(len(b)); {
		n := int64(b[off])<<24 | int64(b[off+1])<<16 | int64(b[off+2])<<8 | int64(b[off+3])
		chunks = append(chunks, seal.ChunkRef{Offset: off, Size: 4 + n})
		off += 4 + n
	}
	if len(chunks) != 5 {
		t.Fatalf("%d chunks on disk, want 5", len(chunks))
	}
	return e.dir, path, chunks, in
}

func TestCrashRecovery(t *testing.T) {
	dir, _, chunks, in := crashed(t)
	end := func(i int) int64 { return chunks[i].Offset + chunks[i].Size }
	cases := []struct {
		name   string
		mutate func(b []byte) []byte
		keep   int // complete chunks left
	}{
		{"intact", func(b []byte) []byte { return b }, 5},
		{"empty", func(b []byte) []byte { return b[:0] }, 0},
		{"half-header", func(b []byte) []byte { return b[:10] }, 0},
		{"header-only", func(b []byte) []byte { return b[:seal.HeaderSize] }, 0},
		{"torn-length", func(b []byte) []byte { return b[:seal.HeaderSize+3] }, 0},
		{"torn-first", func(b []byte) []byte { return b[:end(0)-1] }, 0},
		{"one-chunk", func(b []byte) []byte { return b[:end(0)] }, 1},
		{"torn-third", func(b []byte) []byte { return b[:chunks[2].Offset+chunks[2].Size/2] }, 2},
		{"zero-tail", func(b []byte) []byte { return append(b, make([]byte, 8192)...) }, 5},
		{"garbage-tail", func(b []byte) []byte { return append(b[:end(3)], bytes.Repeat([]byte{0xa5}, 300)...) }, 4},
		{"corrupt-middle", func(b []byte) []byte { b[chunks[2].Offset+100] ^= 1; return b }, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			copyDir(t, dir, e.dir)
			p := filepath.Join(e.dir, "segments", "cam", "1.gws")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, c.mutate(b), 0o600)
			s := e.open()
			segs, infos, data := readAll(t, s, "cam")
			if c.keep == 0 {
				if len(segs) != 0 {
					t.Fatalf("segments %+v, want none", segs)
				}
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("file of an empty segment remains: %v", err)
				}
			} else {
				if len(segs) != 1 || segs[0].Open || segs[0].End != in[25*c.keep].Wall {
					t.Fatalf("segments %+v", segs)
				}
				if fi, _ := os.Stat(p); fi.Size() != end(c.keep-1) {
					t.Errorf("file is %d bytes, want %d", fi.Size(), end(c.keep-1))
				}
			}
			if len(infos) != 25*c.keep {
				t.Fatalf("%d frames, want %d", len(infos), 25*c.keep)
			}
			for i := range infos {
				if !bytes.Equal(data[i], in[i].Data) || infos[i].Wall != in[i].Wall {
					t.Fatalf("frame %d differs", i)
				}
			}
			s.Close()
			e.check(true)
		})
	}
}

func TestOrphanFileRemoved(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	s.Close()
	p := filepath.Join(e.dir, "segments", "cam", "99.gws")
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, []byte("never had a key"), 0o600)
	if rep, _ := Check(context.Background(), e.dir, testKeys, true); rep.OK() {
		t.Error("check missed an orphan file")
	}
	s = e.open()
	s.Close()
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan file remains: %v", err)
	}
	e.check(true)
}

// recorded returns an environment with three closed segments of 2 s.
func recorded(t *testing.T) (*env, []Segment) {
	e := newEnv(t)
	e.cfg.SegmentDuration = 2 * time.Second
	s := e.open()
	w, _ := s.Writer("cam")
	write(t, w, frames(t, media.CodecH264, t0, 150))
	w.Close()
	segs, _ := s.Segments(context.Background(), "cam", 0, 1<<62)
	s.Close()
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	return e, segs
}

func TestDestroy(t *testing.T) {
	e, segs := recorded(t)
	s := e.open()
	ids := []int64{segs[0].ID, segs[1].ID}
	var wrapped [][]byte
	for _, id := range ids {
		r, _ := s.idx.Get(context.Background(), id)
		wrapped = append(wrapped, r.WrappedKey)
	}
	kept, _ := s.idx.Get(context.Background(), segs[2].ID)
	res, err := s.Destroy(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Segments) != 2 || res.Segments[0].ID != ids[0] || res.Segments[0].Camera != "cam" ||
		len(res.Segments[0].SHA256) != 32 || res.Segments[1].End != segs[1].End || res.Segments[0].KeyID != testKeys.Active() {
		t.Errorf("result %+v", res)
	}
	for _, id := range ids {
		if _, err := s.OpenSegment(context.Background(), id); !errs.Is(err, errs.NotExist) {
			t.Errorf("segment %d readable after destruction: %v", id, err)
		}
		if _, err := os.Stat(filepath.Join(e.dir, "segments", "cam", itoa(id)+".gws")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("file of %d remains", id)
		}
	}
	if _, err := s.Destroy(context.Background(), []int64{segs[2].ID, 12345}); !errs.Is(err, errs.NotExist) {
		t.Errorf("destroying a missing id: %v", err)
	}
	if rest, _ := s.Segments(context.Background(), "cam", 0, 1<<62); len(rest) != len(segs)-2 {
		t.Errorf("%d segments left, want %d (a failed Destroy must change nothing)", len(rest), len(segs)-2)
	}
	s.Close()
	// The wrapped keys are gone from every file of the data directory
	// (secure_delete and the WAL checkpoint).
	found := false
	filepath.Walk(e.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		found = found || bytes.Contains(b, kept.WrappedKey)
		for i, w := range wrapped {
			if bytes.Contains(b, w) {
				t.Errorf("wrapped key of destroyed segment %d still in %s", ids[i], p)
			}
		}
		return nil
	})
	if !found {
		t.Error("the scan does not find a kept segment's wrapped key either")
	}
	e.check(true)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func TestDestroyInterrupted(t *testing.T) {
	for _, step := range []string{"destroy.trashed", "destroy.unlinked", "destroy.checkpointed", "destroy.synced"} {
		t.Run(step, func(t *testing.T) {
			e, segs := recorded(t)
			s := e.open()
			crash := errors.New("crash")
			s.hook = func(at string) error {
				if at == step {
					return crash
				}
				return nil
			}
			ids := []int64{segs[0].ID, segs[1].ID}
			if _, err := s.Destroy(context.Background(), ids); !errors.Is(err, crash) {
				t.Fatalf("Destroy: %v", err)
			}
			// Whatever the step, the footage is no longer readable.
			if _, err := s.OpenSegment(context.Background(), ids[0]); !errs.Is(err, errs.NotExist) {
				t.Errorf("readable after the keys were destroyed: %v", err)
			}
			s.abandon()
			if rep, _ := Check(context.Background(), e.dir, testKeys, false); rep.OK() {
				t.Error("check missed the garbage entries")
			}
			s = e.open()
			rest, _ := s.Segments(context.Background(), "cam", 0, 1<<62)
			if len(rest) != len(segs)-2 || rest[0].ID != segs[2].ID {
				t.Errorf("left %+v", rest)
			}
			s.Close()
			e.check(true)
		})
	}
}

func TestCheckReportsEveryViolation(t *testing.T) {
	e, segs := recorded(t)
	db, err := sql.Open("sqlite", filepath.Join(e.dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Segment 2 overlaps segment 1 and its counts lie; segment 3's file
	// is edited; an orphan file appears.
	if _, err := db.Exec(`UPDATE segment SET start_90k = start_90k - 900, frames = frames + 1 WHERE id = ?`, segs[1].ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	p := filepath.Join(e.dir, "segments", "cam", itoa(segs[2].ID)+".gws")
	b, _ := os.ReadFile(p)
	b[len(b)-10] ^= 1
	os.WriteFile(p, b, 0o600)
	os.WriteFile(filepath.Join(e.dir, "segments", "cam", "777.gws"), []byte("x"), 0o600)
	rep, err := Check(context.Background(), e.dir, testKeys, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, v := range rep.Violations {
		got[v.Invariant] = true
	}
	for _, inv := range []int{2, 4, 5, 7, 8} {
		if !got[inv] {
			t.Errorf("invariant %d not reported; got %v", inv, rep.Violations)
		}
	}
	// Without -full the edit inside the file goes unseen, the rest not.
	rep, _ = Check(context.Background(), e.dir, nil, false)
	if rep.OK() || rep.Full {
		t.Error("quick check found nothing")
	}
}

func TestRotate(t *testing.T) {
	e, segs := recorded(t)
	k1 := bytes.Repeat([]byte{1}, 32)
	k2 := bytes.Repeat([]byte{2}, 32)
	both, _ := seal.NewKeyring(k1, k2)
	e.cfg.Keys = both
	s := e.open()
	n, err := s.Rotate(context.Background())
	if err != nil || n != len(segs) {
		t.Fatalf("rotated %d of %d: %v", n, len(segs), err)
	}
	if n, _ := s.Rotate(context.Background()); n != 0 {
		t.Errorf("second rotation rewrapped %d", n)
	}
	s.Close()
	// The old key can go now.
	only2, _ := seal.NewKeyring(k2)
	e.cfg.Keys = only2
	s = e.open()
	if _, infos, _ := readAll(t, s, "cam"); len(infos) != 150 {
		t.Errorf("%d frames readable under the new key", len(infos))
	}
	s.Close()
	rep, err := Check(context.Background(), e.dir, only2, true)
	if err != nil || !rep.OK() {
		t.Fatalf("check after rotation: %v %v", err, rep.Violations)
	}
	// Under the old key alone nothing unwraps, and check says so.
	old, _ := seal.NewKeyring(k1)
	rep, _ = Check(context.Background(), e.dir, old, true)
	if rep.OK() {
		t.Error("check passed with a key that wraps nothing")
	}
}

// TestDestroyMiddle destroys a segment between two others: the one after
// the gap must be marked as following a discontinuity (invariant 9).
func TestDestroyMiddle(t *testing.T) {
	e, segs := recorded(t)
	s := e.open()
	if _, err := s.Destroy(context.Background(), []int64{segs[1].ID}); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.Segments(context.Background(), "cam", 0, 1<<62)
	if rest[1].ID != segs[2].ID || !rest[1].Discontinuity {
		t.Errorf("after the gap: %+v", rest[1])
	}
	s.Close()
	e.check(true)
}

func TestDestroyRange(t *testing.T) {
	e, segs := recorded(t)
	in := frames(t, media.CodecH264, t0, 150)
	byWall := map[int64][]byte{}
	for _, f := range in {
		byWall[f.Wall] = f.Data
	}
	start := segs[1].Start + media.Hz*12/10 // inside segs[1]'s second chunk
	end := segs[2].Start + media.Hz/2       // inside segs[2]'s first chunk
	s := e.open()
	res, err := s.DestroyRange(context.Background(), "cam", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Segments) != 2 || len(res.Segments[0].Replacements) != 1 || len(res.Segments[1].Replacements) != 1 {
		t.Fatalf("result %+v", res)
	}
	rest, infos, data := readAll(t, s, "cam")
	for i, f := range infos {
		if f.Wall < end && f.Wall+f.Duration > start {
			t.Errorf("frame at %d survived the destruction of [%d, %d)", f.Wall, start, end)
		}
		if !bytes.Equal(data[i], byWall[f.Wall]) {
			t.Fatalf("kept frame at %d differs", f.Wall)
		}
	}
	// Kept: segs[0] whole, segs[1]'s first chunk (25 frames), segs[2]
	// from its second chunk's key frame, and everything after.
	want := 150 - (int(segs[1].Frames) - 25) - 25
	if len(infos) != want {
		t.Errorf("%d frames kept, want %d", len(infos), want)
	}
	if len(rest) != len(segs) {
		t.Errorf("%d segments, want %d", len(rest), len(segs))
	}
	for _, d := range res.Segments {
		if _, err := s.OpenSegment(context.Background(), d.ID); !errs.Is(err, errs.NotExist) {
			t.Errorf("original segment %d still readable: %v", d.ID, err)
		}
	}
	s.Close()
	e.check(true)
}

func TestDestroyRangeInterrupted(t *testing.T) {
	e, segs := recorded(t)
	s := e.open()
	crash := errors.New("crash")
	s.hook = func(at string) error {
		if at == "destroyrange.written" {
			return crash
		}
		return nil
	}
	if _, err := s.DestroyRange(context.Background(), "cam", segs[1].Start+media.Hz*12/10, segs[1].End); !errors.Is(err, crash) {
		t.Fatalf("DestroyRange: %v", err)
	}
	s.abandon()
	s = e.open()
	// Nothing was destroyed: the replacement is gone, the original intact.
	rest, infos, _ := readAll(t, s, "cam")
	if len(rest) != len(segs) || len(infos) != 150 || rest[1].ID != segs[1].ID {
		t.Errorf("after recovery %d segments, %d frames", len(rest), len(infos))
	}
	s.Close()
	e.check(true)
}

// fullDisk is a Files whose appends fail with ENOSPC after limit bytes.
type fullDisk struct {
	*Disk
	limit int64
}

type fullFile struct {
	AppendFile
	d *fullDisk
}

func (d *fullDisk) Create(camera string, id int64) (AppendFile, error) {
	f, err := d.Disk.Create(camera, id)
	if err != nil {
		return nil, err
	}
	return fullFile{f, d}, nil
}

func (f fullFile) Write(p []byte) (int, error) {
	if int64(len(p)) > f.d.limit {
		n, _ := f.AppendFile.Write(p[:f.d.limit]) // a short write, as a full disk does
		f.d.limit = 0
		return n, syscall.ENOSPC
	}
	f.d.limit -= int64(len(p))
	return f.AppendFile.Write(p)
}

func TestDiskFull(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = time.Minute
	disk, _ := NewDisk(filepath.Join(e.dir, "segments"))
	fd := &fullDisk{Disk: disk, limit: 600_000} // room for about two chunks
	e.cfg.Files = fd
	s := e.open()
	w, _ := s.Writer("cam")
	var failed error
	for _, f := range frames(t, media.CodecH264, t0, 125) {
		if err := w.WriteFrame(f); err != nil {
			failed = err
			break
		}
	}
	if !errs.Is(failed, errs.IO) || !errors.Is(failed, syscall.ENOSPC) {
		t.Fatalf("WriteFrame on a full disk: %v", failed)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs, infos, _ := readAll(t, s, "cam")
	if len(segs) != 1 || segs[0].Open || len(infos) == 0 || len(infos)%25 != 0 {
		t.Errorf("after ENOSPC: %d segments, %d frames", len(segs), len(infos))
	}
	s.Close()
	e.cfg.Files = nil
	e.check(true)
}
