package export

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"
)

// Asking for early writeback changes nothing in what the file holds.
func TestWriteBehindKeepsTheBytes(t *testing.T) {
	src := make([]byte, 3*writeBehindEvery+12345)
	rand.NewChaCha8([32]byte{7}).Read(src)
	f, err := os.CreateTemp(t.TempDir(), "pkg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := newWriteBehind(f)
	rng := rand.New(rand.NewPCG(3, 4))
	for rest := src; len(rest) > 0; {
		k := min(len(rest), 1+rng.IntN(3<<20))
		if n, err := w.Write(rest[:k]); err != nil || n != k {
			t.Fatalf("write of %d: %d, %v", k, n, err)
		}
		rest = rest[k:]
	}
	if w.started == 0 {
		t.Error("no writeback was asked for")
	}
	if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, src) {
		t.Fatalf("the file has %d bytes that differ from the %d written", len(got), len(src))
	}
}
