package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

func sampleChunk() []byte {
	fs := []FrameInfo{{Wall: t0, Duration: 3600, Key: true, Size: 5}, {Wall: t0 + 3600, Duration: 3600, PTSOffset: -7, Size: 3}}
	return append(appendChunkHeader(nil, fs), "abcdefgh"...)
}

func FuzzChunkPlaintext(f *testing.F) {
	f.Add(sampleChunk())
	f.Add(sampleChunk()[:10])
	for _, c := range fixtures(f, "chunk.bin") {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		frames, data, err := decodeChunk(in, nil)
		if err != nil {
			return
		}
		var sum int
		for _, fr := range frames {
			sum += int(fr.Size)
		}
		if sum != len(data) || len(frames) > len(in) {
			t.Fatalf("%d frames of %d bytes, %d bytes of data", len(frames), sum, len(data))
		}
		again, data2, err := decodeChunk(append(appendChunkHeader(nil, frames), data...), nil)
		if err != nil || !slices.Equal(again, frames) || !bytes.Equal(data, data2) {
			t.Fatalf("re-encoding changed the chunk: %v", err)
		}
	})
}

func FuzzFrameIndex(f *testing.F) {
	fs := []FrameInfo{{Duration: 3600, Key: true, Size: 5}, {Duration: 3000, PTSOffset: 9, Size: 3}, {Duration: 3600, Size: 1}}
	f.Add(encodeIndex(fs, []chunkInfo{{Frames: 2, Size: 100}, {Frames: 1, Size: 40}}))
	for _, c := range fixtures(f, "index.bin") {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		frames, chunks, err := decodeIndex(in, t0, seal.HeaderSize)
		if err != nil {
			return
		}
		if len(frames) > len(in) || len(chunks) > len(in) {
			t.Fatalf("%d frames and %d chunks from %d bytes", len(frames), len(chunks), len(in))
		}
		f2, c2, err := decodeIndex(encodeIndex(frames, chunks), t0, seal.HeaderSize)
		if err != nil || !slices.Equal(f2, frames) || !slices.Equal(c2, chunks) {
			t.Fatalf("re-encoding changed the index: %v", err)
		}
	})
}

// FuzzRecoverTorn hands recovery a crashed segment's file replaced by the
// fuzzer's bytes; the directory must come out passing a full check. It uses
// the in-memory index: SQLite per execution is too slow to fuzz.
func FuzzRecoverTorn(f *testing.F) {
	// A template: one open row (segment 1) and its file.
	tmpl := f.TempDir()
	idx := NewMemIndex()
	e := &env{t: f, dir: tmpl, cfg: Config{Dir: tmpl, Keys: testKeys, SegmentDuration: time.Minute,
		ChunkDuration: time.Second, Index: idx}}
	s := e.open()
	w, _ := s.Writer("cam")
	write(f, w, frames(f, media.CodecH264, t0, 60))
	s.abandon()
	good, err := os.ReadFile(filepath.Join(tmpl, "segments", "cam", "1.gws"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:seal.HeaderSize+100])
	f.Add(append(bytes.Clone(good), 0, 0, 0, 9, 1, 2))
	for _, c := range fixtures(f, "segment.gws") {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		dir := t.TempDir()
		disk, err := NewDisk(filepath.Join(dir, "segments"))
		if err != nil {
			t.Fatal(err)
		}
		os.Mkdir(filepath.Join(dir, "segments", "cam"), 0o700)
		if err := os.WriteFile(filepath.Join(dir, "segments", "cam", "1.gws"), in, 0o600); err != nil {
			t.Fatal(err)
		}
		x := idx.clone()
		s, err := Open(context.Background(), Config{Dir: dir, Keys: testKeys, Index: x, Files: disk})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		rep := &CheckReport{}
		if err := checkBackend(context.Background(), rep, x, disk, testKeys, true); err != nil {
			t.Fatal(err)
		}
		for _, v := range rep.Violations {
			t.Errorf("after recovery: %v", v)
		}
	})
}

// fixtures returns the files named name under testdata/store/*/.
func fixtures(t testing.TB, name string) [][]byte {
	ms, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "store", "*", name))
	var out [][]byte
	for _, m := range ms {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
