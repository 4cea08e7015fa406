package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// ReadChunkInto puts exactly the chunk's frames, as ReadFrame gives them,
// where the caller asks, and leaves the bytes in front of them (which it
// borrows for the chunk's frame table) as they were: for a closed segment
// (read through a mapping of its file) and an open one (read with ReadAt).
func TestReadChunkIntoGivesTheFramesInPlace(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = 4 * time.Second
	s := e.open()
	defer s.Close()
	w, _ := s.Writer("cam")
	write(t, w, frames(t, media.CodecH264, t0, 6*25+10)) // one closed segment, one open
	s.Sync()                                             // closes the first
	ctx := context.Background()
	segs, err := s.Segments(ctx, "cam", 0, 1<<62)
	if err != nil || len(segs) != 2 || segs[0].Open || !segs[1].Open {
		t.Fatalf("segments %+v, %v", segs, err)
	}
	for _, sg := range segs {
		r, err := s.OpenSegment(ctx, sg.ID)
		if err != nil {
			t.Fatal(err)
		}
		chunks := 0
		for i := 0; i < len(r.Frames()); {
			first, end, lead := r.ChunkOf(i)
			if first != i || end <= first || lead <= 0 {
				t.Fatalf("ChunkOf(%d) = %d, %d, %d", i, first, end, lead)
			}
			var want []byte
			for k := first; k < end; k++ {
				b, err := r.ReadFrame(k)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, b...)
			}
			at := lead + 3
			buf := bytes.Repeat([]byte{0xa5}, at+len(want)+5)
			n, err := r.ReadChunkInto(first, buf, at)
			if err != nil || n != len(want) {
				t.Fatalf("chunk at frame %d: %d bytes, %v; want %d", first, n, err, len(want))
			}
			if !bytes.Equal(buf[at:at+n], want) {
				t.Fatalf("chunk at frame %d: the frames differ from ReadFrame's", first)
			}
			if !bytes.Equal(buf[:at], bytes.Repeat([]byte{0xa5}, at)) || !bytes.Equal(buf[at+n:], bytes.Repeat([]byte{0xa5}, 5)) {
				t.Fatalf("chunk at frame %d: bytes around the frames changed", first)
			}
			if _, err := r.ReadChunkInto(first, buf, lead-1); !errs.Is(err, errs.Invalid) {
				t.Errorf("no room for the frame table: %v", err)
			}
			i = end
			chunks++
		}
		if mapped := r.mapped != nil; mapped == sg.Open && runtime.GOOS == "linux" {
			t.Errorf("segment %d (open %v): mapped %v", sg.ID, sg.Open, mapped)
		}
		if chunks < 2 {
			t.Errorf("segment %d: %d chunks read", sg.ID, chunks)
		}
		r.Close()
	}
}

// A chunk that fails authentication gives an error naming it and leaves
// none of its plaintext where its frames would go.
func TestReadChunkIntoRefusesATamperedChunk(t *testing.T) {
	e := newEnv(t)
	e.cfg.SegmentDuration = 4 * time.Second
	s := e.open()
	w, _ := s.Writer("cam")
	write(t, w, frames(t, media.CodecH264, t0, 5*25))
	s.Sync()
	ctx := context.Background()
	segs, _ := s.Segments(ctx, "cam", 0, 1<<62)
	if len(segs) < 1 || segs[0].Open {
		t.Fatalf("segments %+v", segs)
	}
	r, err := s.OpenSegment(ctx, segs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ch := r.chunks[1]
	first, _, lead := r.ChunkOf(ch.First)
	r.Close()
	path := filepath.Join(e.dir, "segments", "cam", fmt.Sprintf("%d.gws", segs[0].ID))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[ch.Offset+ch.Size-30] ^= 0x01 // in the ciphertext of the frames
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = s.OpenSegment(ctx, segs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := bytes.Repeat([]byte{0xa5}, lead+int(ch.Size))
	n, err := r.ReadChunkInto(first, buf, lead)
	if r.mapped == nil && runtime.GOOS == "linux" {
		t.Error("the closed segment is not mapped")
	}
	if !errs.Is(err, errs.Corrupt) || n != 0 {
		t.Fatalf("tampered chunk: %d bytes, %v; want Corrupt", n, err)
	}
	if !bytes.Equal(buf[:lead], bytes.Repeat([]byte{0xa5}, lead)) {
		t.Error("the bytes before the frames changed")
	}
	for i, c := range buf[lead:] {
		if c != 0 && c != 0xa5 {
			t.Fatalf("the tampered chunk left plaintext in the buffer (byte %d is %#x)", lead+i, c)
		}
	}
}

// A segment file that loses its data under the mapping (cut short here;
// an I/O error does the same) fails the read with an error instead of
// ending the process.
func TestMappedSegmentCutShortFailsTheRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("mapping segment files is tested on Linux")
	}
	e := newEnv(t)
	e.cfg.SegmentDuration = 4 * time.Second
	s := e.open()
	w, _ := s.Writer("cam")
	write(t, w, frames(t, media.CodecH264, t0, 5*25))
	s.Sync()
	ctx := context.Background()
	segs, _ := s.Segments(ctx, "cam", 0, 1<<62)
	r, err := s.OpenSegment(ctx, segs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ReadFrame(0); err != nil || r.mapped == nil {
		t.Fatalf("the closed segment is not mapped (%v)", err)
	}
	path := filepath.Join(e.dir, "segments", "cam", fmt.Sprintf("%d.gws", segs[0].ID))
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
	last := len(r.Frames()) - 1
	if _, err := r.ReadFrame(last); !errs.Is(err, errs.IO) {
		t.Fatalf("reading a frame past the cut: %v, want an IO error", err)
	}
	first, _, lead := r.ChunkOf(last)
	if _, err := r.ReadChunkInto(first, make([]byte, lead+int(r.chunks[len(r.chunks)-1].Size)), lead); !errs.Is(err, errs.IO) {
		t.Fatalf("reading a chunk past the cut: %v, want an IO error", err)
	}
}
