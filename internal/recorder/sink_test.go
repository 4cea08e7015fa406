package recorder

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// TestSinkChunkExtremes drives the recorder's sink, the store writer, with
// the frames that stress its single in-place chunk buffer: a chunk of
// hundreds of tiny frames, whose header outgrows the room kept for it, and
// frames of several MiB, which grow the buffer past what a writer keeps.
// Every frame must read back byte for byte and `check` must be clean.
func TestSinkChunkExtremes(t *testing.T) {
	ctx := context.Background()
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{Dir: dir, Keys: keys, SegmentDuration: time.Hour, ChunkDuration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Writer("cam")
	if err != nil {
		t.Fatal(err)
	}
	params := &media.Params{Codec: media.CodecH264, SPS: []byte{0x67, 0x42, 0xc0, 0x1f, 0x8c, 0x8d, 0x40}, PPS: []byte{0x68, 0xce, 0x3c, 0x80}}
	nalu := func(key bool, n int, seed byte) []byte {
		b := make([]byte, 4+n)
		binary.BigEndian.PutUint32(b, uint32(n))
		b[4] = 0x41
		if key {
			b[4] = 0x65
		}
		for i := 5; i < len(b); i++ {
			b[i] = seed + byte(i*7)
		}
		return b
	}
	var want [][]byte
	wall := int64(1_000_000 * media.Hz)
	write := func(key bool, n int, step int64) {
		t.Helper()
		d := nalu(key, n, byte(len(want)))
		want = append(want, d)
		f := &media.Frame{Wall: wall, Key: key, Params: params, Data: d}
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
		// The writer must not keep the caller's bytes.
		clear(d[4:])
		want[len(want)-1] = nalu(key, n, byte(len(want)-1))
		wall += step
	}
	// 1,200 frames 1/600 s apart: two chunks of 600 frames, each header
	// some 3,000 bytes.
	write(true, 20, media.Hz/600)
	for i := 1; i < 1200; i++ {
		write(false, 10+i%200, media.Hz/600)
	}
	// Then frames of 3 and 6 MiB, a normal chunk after them, and a break.
	write(true, 3<<20, media.Hz/25)
	write(false, 6<<20, media.Hz/25)
	for i := 0; i < 60; i++ {
		write(i%25 == 0, 5000+i, media.Hz/25)
	}
	w.Break("test")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	segs, err := st.Segments(ctx, "cam", 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, s := range segs {
		r, err := st.OpenSegment(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = r.ReadFrames(0, len(r.Frames()), func(i int, data []byte) error {
			got = append(got, bytes.Clone(data))
			return nil
		})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read back %d frames from %d segments, wrote %d", len(got), len(segs), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("frame %d (%d bytes) reads back as %d different bytes", i, len(want[i]), len(got[i]))
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := store.Check(ctx, dir, keys, true)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("check: %v", rep.Violations)
	}
}
