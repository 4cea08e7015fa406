package export

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"testing"
)

// The package file holds exactly what was written, in order, whether the
// writes are small (ZIP headers, the manifest), arbitrary, or a clip's
// blocks from pipeCopyTo starting at any phase of the alignment; whether
// it is written directly or through the page cache; and the tail that does
// not fill an aligned block is there after Sync.
func TestPkgFileKeepsTheBytes(t *testing.T) {
	for _, cached := range []bool{false, true} {
		for seed := range uint64(3) {
			rng := rand.New(rand.NewPCG(seed, 9))
			f, err := os.CreateTemp(t.TempDir(), "pkg")
			if err != nil {
				t.Fatal(err)
			}
			p := newPkgFile(f)
			if cached && p.direct {
				if err := setDirect(p.fd, false); err != nil {
					t.Fatal(err)
				}
				p.direct = false
			}
			var want bytes.Buffer
			write := func(b []byte) {
				if n, err := p.Write(b); err != nil || n != len(b) {
					t.Fatalf("write of %d: %d, %v", len(b), n, err)
				}
				want.Write(b)
			}
			for range 3 {
				// A few small writes leave the file at an odd phase.
				for range rng.IntN(4) {
					write(randBytes(rng, rng.IntN(3*directAlign)))
				}
				clip := randBytes(rng, rng.IntN(2*pipeBlock))
				h := sha256.New()
				n, err := pipeCopyTo(p, h, &oddReader{b: clip, rng: rng}, p)
				if err != nil || n != int64(len(clip)) {
					t.Fatalf("pipeCopyTo: %d of %d, %v", n, len(clip), err)
				}
				want.Write(clip)
				if sum := sha256.Sum256(clip); !bytes.Equal(h.Sum(nil), sum[:]) {
					t.Fatal("wrong hash")
				}
				write(randBytes(rng, rng.IntN(stageSize+directAlign)))
			}
			direct := p.direct
			if err := p.Sync(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("cached %v seed %d: the file has %d bytes that differ from the %d written", cached, seed, len(got), want.Len())
			}
			switch {
			case !cached && !direct && seed == 0:
				t.Logf("the file system refuses direct I/O: written through the page cache")
			case !cached && direct && p.uncopied == 0:
				t.Error("no clip block was written without a copy")
			}
		}
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(rng.Uint32()), byte(rng.Uint32())}).Read(b)
	return b
}
