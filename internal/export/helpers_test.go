package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

const sec = media.Hz

var t0 = media.Time90k(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) // 09:00 KST

// needTool returns the path of an external tool, skipping the test when it
// is missing outside CI and failing it in CI.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (scripts/test installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// record writes n frames of the codec's clip to w from wall time start
// (frame i is the clip's access unit i mod its length).
func record(t testing.TB, w *store.Writer, codec media.Codec, start int64, n int) int64 {
	t.Helper()
	c, err := clip.Load(codec)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		au := c.AUs[i%len(c.AUs)]
		var nalus [][]byte
		for _, nal := range au.NALUs {
			if _, isParam := media.ExtractParams(codec, [][]byte{nal}); isParam {
				continue
			}
			nalus = append(nalus, nal)
		}
		data, err := media.ToAVCC(nalus)
		if err != nil {
			t.Fatal(err)
		}
		f := &media.Frame{Wall: start + int64(i)*clip.FrameDuration, Key: au.Key, Params: c.Params, Data: data}
		if err := w.WriteFrame(f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	return start + int64(n)*clip.FrameDuration
}

// recording is a store with cam-1 recorded for 25 s from t0, a 5 s gap,
// then 20 s more (10 s segments), and cam-2 recorded for the first 10 s.
type recording struct {
	s          *store.Store
	end1, end2 int64
}

func newRecording(t testing.TB, codec media.Codec) *recording {
	t.Helper()
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), store.Config{
		Dir: t.TempDir(), Keys: keys, SegmentDuration: 10 * time.Second,
		ChunkDuration: time.Second, SyncInterval: 10 * time.Millisecond,
		Clock: clock.NewFake(media.FromTime90k(t0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w, err := s.Writer("cam-1")
	if err != nil {
		t.Fatal(err)
	}
	r := &recording{s: s}
	r.end1 = record(t, w, codec, t0, 25*25)
	w.Break("test gap")
	r.end2 = record(t, w, codec, r.end1+5*sec, 20*25)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := s.Writer("cam-2")
	if err != nil {
		t.Fatal(err)
	}
	record(t, w2, codec, t0, 10*25)
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeGate records the requests it was given and grants each one with the
// next sequence number.
type fakeGate struct {
	mu     sync.Mutex
	reqs   []access.FootageRequest
	seq    uint64
	refuse error
	ctx    context.Context
	cancel context.CancelFunc
}

type fakeAccess struct {
	seq uint64
	ctx context.Context
}

func (a fakeAccess) Seq() uint64              { return a.seq }
func (a fakeAccess) Context() context.Context { return a.ctx }
func (a fakeAccess) Close()                   {}

func newFakeGate() *fakeGate {
	g := &fakeGate{seq: 41}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	return g
}

func (g *fakeGate) gate(ctx context.Context, req access.FootageRequest) (Access, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refuse != nil {
		return nil, g.refuse
	}
	g.reqs = append(g.reqs, req)
	g.seq++
	return fakeAccess{seq: g.seq, ctx: g.ctx}, nil
}

func newKey(t testing.TB) *Key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewKey(priv)
}

func testRequest(from, to int64, cams ...string) Request {
	r := Request{From: media.FromTime90k(from), To: media.FromTime90k(to), Recipient: "서울○○경찰서 수사과",
		Purpose:    access.Purpose{Code: "provision", Reason: "절도 사건 수사"},
		LegalBasis: "개인정보 보호법 제18조 제2항 제7호", Letter: "수사-2026-0412", Period: "2026-05-31까지",
		RequestedBy: "kim", ApprovedBy: "lee"}
	for _, c := range cams {
		r.Cameras = append(r.Cameras, access.Camera{ID: c, Site: "main"})
	}
	return r
}

// rewrite copies the ZIP at path to a new file, letting edit change or
// drop (nil) each entry's bytes; it returns the new file's path.
func rewrite(t *testing.T, path string, edit func(name string, b []byte) []byte) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		b = edit(f.Name, b)
		if b == nil {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := path + ".edited.zip"
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func verifyFile(t *testing.T, path string, trust Trust) *Verification {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	v, err := Verify(f, fi.Size(), trust)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
