package ingest

import "testing"

func TestFrameBufSizes(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 4097, 30000, 1 << 20, 8 << 20, 8<<20 + 1, 100 << 20} {
		b := getFrameBuf(n)
		if len(b) != 0 || cap(b) < n {
			t.Fatalf("getFrameBuf(%d): len %d cap %d", n, len(b), cap(b))
		}
		if n > 4096 && n <= 8<<20 && cap(b) >= 2*n {
			t.Fatalf("getFrameBuf(%d): cap %d, more than twice what was asked", n, cap(b))
		}
		putFrameBuf(b)
	}
	// A buffer the pool did not make is not taken: its capacity would put
	// a too-small buffer in a class.
	putFrameBuf(make([]byte, 5000))
	for range 100 {
		if b := getFrameBuf(8000); cap(b) < 8000 {
			t.Fatalf("pool gave a %d-byte buffer for 8000 bytes", cap(b))
		}
	}
}
