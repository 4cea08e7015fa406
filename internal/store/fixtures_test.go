package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// fixtureDir holds bad inputs, one directory per case, each with want.txt:
// the error text or scan stop the case must produce.
var fixtureDir = filepath.Join("..", "..", "testdata", "store")

// TestWriteFixtures regenerates testdata/store when GWANJE_WRITE_FIXTURES
// is set; the fixtures are committed.
func TestWriteFixtures(t *testing.T) {
	if os.Getenv("GWANJE_WRITE_FIXTURES") == "" {
		t.Skip("set GWANJE_WRITE_FIXTURES=1 to regenerate testdata/store")
	}
	put := func(c, name string, b []byte) {
		os.MkdirAll(filepath.Join(fixtureDir, c), 0o755)
		if err := os.WriteFile(filepath.Join(fixtureDir, c, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := sampleChunk()
	bad := bytes.Clone(good)
	put("chunk-size-mismatch", "chunk.bin", bad[:len(bad)-1])
	put("chunk-size-mismatch", "want.txt", []byte("frame sizes add up to 8, 7 bytes follow"))
	put("chunk-lying-count", "chunk.bin", []byte{chunkVersion, 0, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3})
	put("chunk-lying-count", "want.txt", []byte("is more than the"))
	fs := []FrameInfo{{Duration: 3600, Key: true, Size: 5}, {Duration: 3600, Size: 3}}
	idx := encodeIndex(fs, []chunkInfo{{Frames: 2, Size: 100}})
	put("index-lying-count", "index.bin", append([]byte{indexVersion, 0xff, 0xff, 0x03}, idx[2:]...))
	put("index-lying-count", "want.txt", []byte("frame count 65535 is more than"))
	put("index-short-chunk-table", "index.bin", encodeIndex(fs, []chunkInfo{{Frames: 1, Size: 100}}))
	put("index-short-chunk-table", "want.txt", []byte("chunk table covers 1 of 2 frames"))
	put("index-zero-duration", "index.bin", encodeIndex([]FrameInfo{{Duration: 0, Key: true, Size: 5}}, []chunkInfo{{Frames: 1, Size: 100}}))
	put("index-zero-duration", "want.txt", []byte("frame duration 0 out of range"))

	// Segment files of segment 1 with a data key wrapped under the test
	// keyring (all bytes 1).
	dir := t.TempDir()
	x := NewMemIndex()
	s, err := Open(context.Background(), Config{Dir: dir, Keys: testKeys, Index: x, SegmentDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Writer("cam")
	small := frames(t, media.CodecH264, t0, 100)
	for i, f := range small {
		f.Data = []byte{0, 0, 0, 4, 'f', 'r', byte(i), byte(i >> 8)} // small fixtures
	}
	write(t, w, small)
	s.abandon()
	seg, _ := os.ReadFile(filepath.Join(dir, "segments", "cam", "1.gws"))
	row, _ := x.Get(context.Background(), 1)
	res, _ := seal.Scan(bytes.NewReader(seg), int64(len(seg)), mustUnwrap(t, row), nil)
	c := res.Chunks
	put("segment-torn-tail", "segment.gws", seg[:c[2].Offset+c[2].Size/2])
	put("segment-torn-tail", "want.txt", []byte("torn tail 2"))
	m := bytes.Clone(seg)
	m[c[1].Offset+50] ^= 0x10
	put("segment-corrupt-middle", "segment.gws", m)
	put("segment-corrupt-middle", "want.txt", []byte("corrupt 1"))
	m = bytes.Clone(seg)
	m[0] = 'X'
	put("segment-bad-magic", "segment.gws", m[:200])
	put("segment-bad-magic", "want.txt", []byte("bad header 0"))
	for _, name := range []string{"segment-torn-tail", "segment-corrupt-middle", "segment-bad-magic"} {
		put(name, "wrapped.key", row.WrappedKey)
	}
}

func mustUnwrap(t testing.TB, r *Row) *seal.DataKey {
	dk, err := testKeys.Unwrap(r.WrappedKey, r.ID, r.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	return dk
}

func TestBadInputFixtures(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(fixtureDir, "*", "want.txt"))
	if len(cases) < 8 {
		t.Fatalf("%d fixtures under %s; regenerate with GWANJE_WRITE_FIXTURES=1", len(cases), fixtureDir)
	}
	for _, wantPath := range cases {
		dir := filepath.Dir(wantPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want, _ := os.ReadFile(wantPath)
			read := func(n string) []byte { b, _ := os.ReadFile(filepath.Join(dir, n)); return b }
			var got string
			switch {
			case read("chunk.bin") != nil:
				_, _, err := decodeChunk(read("chunk.bin"), nil)
				if err == nil {
					t.Fatal("decoded")
				}
				got = err.Error()
			case read("index.bin") != nil:
				_, _, err := decodeIndex(read("index.bin"), t0, seal.HeaderSize)
				if err == nil {
					t.Fatal("decoded")
				}
				got = err.Error()
			case read("segment.gws") != nil:
				dk := mustUnwrap(t, &Row{ID: 1, KeyID: testKeys.Active(), WrappedKey: read("wrapped.key")})
				seg := read("segment.gws")
				res, err := seal.Scan(bytes.NewReader(seg), int64(len(seg)), dk, nil)
				if err != nil {
					t.Fatal(err)
				}
				got = res.Stop.String() + " " + itoa(int64(len(res.Chunks)))
			default:
				t.Fatal("no input file")
			}
			if !strings.Contains(got, string(want)) {
				t.Errorf("got %q, want it to contain %q", got, want)
			}
		})
	}
}
