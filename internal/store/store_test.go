package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// t0 is a wall-clock start on a whole second (90 kHz).
var t0 = media.Time90k(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))

var testKeys = func() *seal.Keyring {
	k, err := seal.NewKeyring(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		panic(err)
	}
	return k
}()

type env struct {
	t   testing.TB
	dir string
	clk *clock.Fake
	cfg Config
}

func newEnv(t testing.TB) *env {
	dir := t.TempDir()
	clk := clock.NewFake(media.FromTime90k(t0))
	return &env{t: t, dir: dir, clk: clk, cfg: Config{Dir: dir, Keys: testKeys, SegmentDuration: 10 * time.Second,
		ChunkDuration: time.Second, SyncInterval: time.Second, Clock: clk}}
}

func (e *env) open() *Store {
	e.t.Helper()
	s, err := Open(context.Background(), e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) check(full bool) *CheckReport {
	e.t.Helper()
	rep, err := Check(context.Background(), e.dir, testKeys, full)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, v := range rep.Violations {
		e.t.Errorf("check: %v", v)
	}
	return rep
}

// sample converts an access unit to MP4 sample form.
func sample(au clip.AU) []byte {
	var b []byte
	for _, n := range au.NALUs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

// frames returns n frames of the clip, looping, starting at wall start.
func frames(t testing.TB, codec media.Codec, start int64, n int) []*media.Frame {
	c, err := clip.Load(codec)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*media.Frame, n)
	for i := range n {
		au := c.AUs[i%len(c.AUs)]
		out[i] = &media.Frame{Wall: start + int64(i)*clip.FrameDuration, Key: au.Key, Params: c.Params, Data: sample(au)}
	}
	return out
}

func write(t testing.TB, w *Writer, fs []*media.Frame) {
	t.Helper()
	for _, f := range fs {
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads every frame of every segment of camera in order.
func readAll(t testing.TB, s *Store, camera string) ([]Segment, []FrameInfo, [][]byte) {
	t.Helper()
	ctx := context.Background()
	segs, err := s.Segments(ctx, camera, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	var infos []FrameInfo
	var data [][]byte
	for _, sg := range segs {
		r, err := s.OpenSegment(ctx, sg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.ReadFrames(0, len(r.Frames()), func(i int, b []byte) error {
			infos = append(infos, r.Frames()[i])
			data = append(data, bytes.Clone(b))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	return segs, infos, data
}

func TestRoundTrip(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			e := newEnv(t)
			s := e.open()
			w, err := s.Writer("gate-1")
			if err != nil {
				t.Fatal(err)
			}
			in := frames(t, codec, t0, 25*25) // 25 s
			write(t, w, in)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			segs, infos, data := readAll(t, s, "gate-1")
			if len(infos) != len(in) {
				t.Fatalf("read %d frames, wrote %d", len(infos), len(in))
			}
			for i, f := range in {
				if infos[i].Wall != f.Wall || infos[i].Key != f.Key || !bytes.Equal(data[i], f.Data) {
					t.Fatalf("frame %d differs: %+v", i, infos[i])
				}
				if infos[i].Duration != clip.FrameDuration {
					t.Fatalf("frame %d duration %d", i, infos[i].Duration)
				}
			}
			// The first segment is staggered shorter than 10 s; later ones
			// are cut at the first key frame after 10 s; they tile.
			stag := s.stagger("gate-1")
			if stag == 0 {
				t.Fatal("stagger offset is zero for gate-1; pick another camera id")
			}
			want0 := (10*media.Hz - stag + media.Hz - 1) / media.Hz * media.Hz // next whole second (key frame)
			if got := segs[0].End - segs[0].Start; got != want0 {
				t.Errorf("first segment %d long, want %d (stagger %d)", got, want0, stag)
			}
			for i := 1; i < len(segs); i++ {
				if segs[i].Start != segs[i-1].End || segs[i].Discontinuity {
					t.Errorf("segment %d does not tile: %+v after %+v", i, segs[i], segs[i-1])
				}
				if d := segs[i].End - segs[i].Start; i < len(segs)-1 && d != 10*media.Hz {
					t.Errorf("segment %d is %d long", i, d)
				}
			}
			if !segs[0].Discontinuity {
				t.Error("first segment has no discontinuity flag")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			e.check(true)
		})
	}
}

func TestParamChange(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = time.Hour
	s := e.open()
	w, _ := s.Writer("cam")
	in := frames(t, media.CodecH264, t0, 100)
	p2 := *in[0].Params
	p2.SPS = append(bytes.Clone(p2.SPS), 0)
	for _, f := range in[50:] {
		f.Params = &p2
	}
	write(t, w, in)
	w.Close()
	segs, infos, _ := readAll(t, s, "cam")
	if len(segs) != 2 || segs[1].Start != in[50].Wall || segs[0].End != segs[1].Start || segs[1].Discontinuity {
		t.Fatalf("segments %+v", segs)
	}
	if len(infos) != 100 {
		t.Fatalf("%d frames", len(infos))
	}
	r, _ := s.OpenSegment(context.Background(), segs[1].ID)
	if !r.Params().Equal(&p2) {
		t.Error("second segment lacks the new params")
	}
	r.Close()
	s.Close()
	e.check(true)
}

func TestBreakAndNonMonotonic(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	w, _ := s.Writer("cam")
	in := frames(t, media.CodecH264, t0, 100)
	write(t, w, in[:30])
	w.Break("camera reconnect")
	// Frames 30..49 are not key frames: dropped until 50.
	write(t, w, in[30:60])
	if w.Dropped() != 20 {
		t.Errorf("dropped %d, want 20", w.Dropped())
	}
	// A frame going back in time is refused and breaks the segment.
	back := *in[60]
	back.Wall = in[58].Wall
	if err := w.WriteFrame(&back); !errs.Is(err, errs.Invalid) {
		t.Fatalf("non-monotonic frame: %v", err)
	}
	write(t, w, in[75:100])
	w.Close()
	segs, infos, _ := readAll(t, s, "cam")
	if len(segs) != 3 {
		t.Fatalf("%d segments: %+v", len(segs), segs)
	}
	// Segment 0 ends at frame 29 with the previous frame's duration.
	if segs[0].End != in[29].Wall+clip.FrameDuration || segs[0].Frames != 30 {
		t.Errorf("segment 0: %+v", segs[0])
	}
	if segs[1].Start != in[50].Wall || !segs[1].Discontinuity || segs[1].Frames != 10 {
		t.Errorf("segment 1: %+v", segs[1])
	}
	if segs[2].Start != in[75].Wall || !segs[2].Discontinuity {
		t.Errorf("segment 2: %+v", segs[2])
	}
	if len(infos) != 30+10+25 {
		t.Errorf("%d frames", len(infos))
	}
	s.Close()
	e.check(true)
}

func TestReadOpenSegment(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = time.Minute
	s := e.open()
	defer s.Close()
	w, _ := s.Writer("cam")
	in := frames(t, media.CodecH265, t0, 80)
	write(t, w, in)
	// 3 chunks of 25 frames are written; frame 75..79 are not.
	segs, infos, data := readAll(t, s, "cam")
	if len(segs) != 1 || !segs[0].Open || segs[0].End != in[75].Wall {
		t.Fatalf("segments %+v", segs)
	}
	if len(infos) != 75 {
		t.Fatalf("%d frames readable", len(infos))
	}
	for i := range infos {
		if !bytes.Equal(data[i], in[i].Data) {
			t.Fatalf("frame %d differs", i)
		}
	}
	cs, _ := s.Cameras(context.Background())
	if len(cs) != 1 || cs[0].Newest != in[75].Wall || cs[0].Oldest != t0 {
		t.Errorf("cameras %+v", cs)
	}
	if _, err := s.Destroy(context.Background(), []int64{segs[0].ID}); !errs.Is(err, errs.Conflict) {
		t.Errorf("destroying the open segment: %v", err)
	}
	if _, err := s.Writer("cam"); !errs.Is(err, errs.Exist) {
		t.Errorf("second writer: %v", err)
	}
	if _, err := s.Writer("Bad/Cam"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad camera id: %v", err)
	}
}

func TestLock(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	if _, err := Open(context.Background(), e.cfg); !errs.Is(err, errs.Conflict) {
		t.Errorf("second Open: %v", err)
	}
	if _, err := Check(context.Background(), e.dir, nil, false); !errs.Is(err, errs.Conflict) {
		t.Errorf("Check beside a recorder: %v", err)
	}
	s.Close()
}

// TestNoPlaintext scans every byte of the data directory for the clip's
// parameter sets and the start of a key frame.
func TestNoPlaintext(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		e := newEnv(t)
		s := e.open()
		w, _ := s.Writer("cam")
		in := frames(t, codec, t0, 250)
		write(t, w, in)
		w.Close()
		c, _ := clip.Load(codec)
		var idr []byte
		for _, n := range c.AUs[0].NALUs {
			if len(n) > 100 {
				idr = n[:16]
			}
		}
		needles := map[string][]byte{"SPS": c.Params.SPS, "PPS": c.Params.PPS, "IDR": idr}
		if codec == media.CodecH265 {
			needles["VPS"] = c.Params.VPS
		}
		scan := func() {
			filepath.Walk(e.dir, func(p string, fi os.FileInfo, err error) error {
				if err != nil || fi.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				for name, n := range needles {
					if bytes.Contains(b, n) {
						t.Errorf("%v: %s in plaintext in %s", codec, name, p)
					}
				}
				return nil
			})
		}
		scan() // with the WAL
		s.Close()
		scan()
	}
}

// TestSyncerFsyncsOnItsClock checks that written chunks are fsynced by the
// background syncer when SyncInterval passes on the injected clock, without
// the writer waiting.
func TestSyncerFsyncsOnItsClock(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = time.Minute
	s := e.open()
	defer s.Close()
	w, _ := s.Writer("cam")
	write(t, w, frames(t, media.CodecH264, t0, 60))
	s.mu.Lock()
	var l *liveSeg
	for _, x := range s.live {
		l = x
	}
	s.mu.Unlock()
	dirty := func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.dirty }
	if !dirty() {
		t.Fatal("written chunks are not waiting for fsync")
	}
	deadline := time.Now().Add(10 * time.Second)
	for dirty() {
		if time.Now().After(deadline) {
			t.Fatal("syncer did not fsync within SyncInterval of the fake clock")
		}
		e.clk.Advance(time.Second)
		runtime.Gosched()
	}
}

// WouldWait is true exactly for the frames that start a segment (the only
// writes that wait for an index commit): the first key frame, a key frame
// past the segment's length, a key frame with new parameters.
func TestWouldWaitMatchesSegmentStarts(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = 3 * time.Second
	s := e.open()
	w, _ := s.Writer("cam")
	in := frames(t, media.CodecH264, t0, 250)
	p2 := *in[0].Params
	p2.SPS = append(bytes.Clone(p2.SPS), 0)
	for _, f := range in[125:] {
		f.Params = &p2
	}
	starts := map[int64]bool{}
	for _, f := range in {
		if w.WouldWait(f) {
			starts[f.Wall] = true
		}
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if w.WouldWait(in[0]) {
		t.Error("a closed writer would wait")
	}
	segs, _, _ := readAll(t, s, "cam")
	if len(segs) < 4 || len(segs) != len(starts) {
		t.Fatalf("%d segments, WouldWait true for %d frames", len(segs), len(starts))
	}
	for _, g := range segs {
		if !starts[g.Start] {
			t.Errorf("segment at %d started without WouldWait", g.Start)
		}
	}
	s.Close()
}
