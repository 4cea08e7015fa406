package recorder

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRecordsSimulatorWithNoPlaintextOnDisk records an H.264 and an H.265
// simulated camera, then scans every byte under the data directory —
// segment files, index, WAL — for the clips' parameter sets and the start
// of their key frames. Footage must exist only in sealed form.
func TestRecordsSimulatorWithNoPlaintextOnDisk(t *testing.T) {
	sim, err := camsim.Start(camsim.Config{Addr: "127.0.0.1:0", Cameras: 2,
		Codecs: []media.Codec{media.CodecH264, media.CodecH265}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{Dir: dir, Keys: keys,
		SegmentDuration: 10 * time.Second, ChunkDuration: time.Second, SyncInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec := New(st, ingest.Options{})
	ids := []string{"h264", "h265"}
	for i, id := range ids {
		if err := rec.Start(context.Background(), ingest.Camera{ID: id, URL: sim.URL(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	// Record until each camera has at least 3 s of footage in the store.
	waitFor(t, 20*time.Second, "3 s of footage from each camera", func() bool {
		sums, err := st.Cameras(context.Background())
		if err != nil || len(sums) < 2 {
			return false
		}
		for _, id := range ids {
			segs, err := st.Segments(context.Background(), id, 0, 1<<62)
			if err != nil || len(segs) == 0 {
				return false
			}
			if segs[len(segs)-1].End-segs[0].Start < 3*media.Hz {
				return false
			}
		}
		return true
	})
	for _, s := range rec.States() {
		if s.Status != ingest.Recording || s.Counters.KeyFrames == 0 {
			t.Errorf("%s: status %v, counters %+v", s.Camera, s.Status, s.Counters)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := store.Check(context.Background(), dir, keys, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Violations {
		t.Errorf("check: %v", v)
	}

	// The patterns: each clip's SPS, PPS (and VPS), and the first 16 bytes
	// of every key frame's slice data.
	var patterns [][]byte
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		c, err := clip.Load(codec)
		if err != nil {
			t.Fatal(err)
		}
		patterns = append(patterns, c.Params.SPS, c.Params.PPS)
		if c.Params.VPS != nil {
			patterns = append(patterns, c.Params.VPS)
		}
		// Every key frame's slice: whichever loop position recording
		// started at, several of them are in the store.
		for _, au := range c.AUs {
			if au.Key {
				slice := au.NALUs[len(au.NALUs)-1]
				patterns = append(patterns, slice[:16])
			}
		}
	}
	scanned := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned += len(b)
		for i, p := range patterns {
			if bytes.Contains(b, p) {
				t.Errorf("%s contains plaintext pattern %d (%d bytes)", path, i, len(p))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Make sure the scan saw the footage: at least 3 s at ~2 Mbit/s each.
	if scanned < 1_000_000 {
		t.Errorf("scanned only %d bytes", scanned)
	}
}
