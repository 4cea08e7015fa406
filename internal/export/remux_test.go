package export

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// The pipeline writes and hashes exactly what it reads, in order, for
// sizes around its block size.
func TestPipeCopyWritesAndHashesInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, pipeBlock - 1, pipeBlock, pipeBlock + 1, (pipeBlocks+3)*pipeBlock + 12345} {
		src := make([]byte, n)
		rand.NewChaCha8([32]byte{byte(n)}).Read(src)
		var out bytes.Buffer
		h := sha256.New()
		// Odd read sizes: the pipeline must fill its blocks itself.
		got, err := pipeCopy(&out, h, &oddReader{b: src, rng: rng})
		if err != nil || got != int64(n) {
			t.Fatalf("%d bytes: copied %d, %v", n, got, err)
		}
		if !bytes.Equal(out.Bytes(), src) {
			t.Fatalf("%d bytes: the written bytes differ from the source", n)
		}
		if want := sha256.Sum256(src); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%d bytes: wrong hash", n)
		}
	}
}

type oddReader struct {
	b   []byte
	rng *rand.Rand
}

func (r *oddReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1+r.rng.IntN(300_000))], r.b)
	r.b = r.b[n:]
	return n, nil
}

// A failed write stops the reading (no decrypting the rest of the clip
// for nothing) and is returned; a failed read is returned.
func TestPipeCopyStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("disk full")
	src := &countingReader{}
	_, err := pipeCopy(failingWriter{boom}, sha256.New(), io.LimitReader(src, 100*pipeBlock))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the write's", err)
	}
	if src.n > (pipeBlocks+2)*pipeBlock {
		t.Errorf("read %d blocks after the write failed", src.n/pipeBlock)
	}
	bad := errors.New("segment corrupt")
	_, err = pipeCopy(io.Discard, sha256.New(), io.MultiReader(io.LimitReader(&countingReader{}, 3*pipeBlock+5), errReader{bad}))
	if !errors.Is(err, bad) {
		t.Fatalf("err = %v, want the read's", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write(p []byte) (int, error) { return 0, w.err }

type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) { r.n += len(p); return len(p), nil }

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
