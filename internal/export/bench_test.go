package export

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// benchMinutes of the H.264 clip (1280x720, 25 fps, about 2 Mbit/s) are
// recorded into a real encrypted store in one-minute segments.
const benchMinutes = 10

// BenchmarkExportRemux measures the remux export rate in bytes of footage
// per second: "gwanje" is a whole Export (index read, gate, decrypting
// every chunk, building the MP4, SHA-256, writing the ZIP, fsync, link);
// "ffmpeg-copy" is `ffmpeg -c copy` of the same footage already decrypted
// into an MP4 on the same disk, to an MP4 beside it: the peer, in the
// same run. Each also reports the CPU time it used per export (user and
// system, of this process for gwanje, of the child for ffmpeg): on a
// machine shared with other jobs the wall-clock rate varies with their
// load, the CPU time much less. docs/benchmarks.md.
func BenchmarkExportRemux(b *testing.B) {
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	s, err := store.Open(context.Background(), store.Config{
		Dir: dir, Keys: keys, SegmentDuration: time.Minute, ChunkDuration: time.Second,
		SyncInterval: 100 * time.Millisecond, Clock: clock.NewFake(media.FromTime90k(t0)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer("cam-1")
	if err != nil {
		b.Fatal(err)
	}
	end := record(b, w, media.CodecH264, t0, benchMinutes*60*25)
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	// The footage: the playback MP4 of the range (also ffmpeg's input).
	pc, err := playback.Build(context.Background(), playback.StoreSource{Store: s}, "cam-1", t0, end)
	if err != nil {
		b.Fatal(err)
	}
	in := filepath.Join(dir, "in.mp4")
	f, _ := os.Create(in)
	if _, err := io.Copy(f, pc.File.NewReader()); err != nil {
		b.Fatal(err)
	}
	f.Close()
	pc.Close()
	size := pc.File.Size()
	b.Logf("footage: %d min, %.1f MB", benchMinutes, float64(size)/1e6)

	b.Run("gwanje", func(b *testing.B) {
		x := &Exporter{Source: StoreSource{s}, Key: newKey(b)}
		req := testRequest(t0, end, "cam-1")
		out := b.TempDir()
		b.SetBytes(size)
		i := 0
		// The packages are removed after the timing: unlinking one of
		// 150 MB takes 40-60 ms here, which is no part of an export.
		defer os.RemoveAll(out)
		defer cpuPerOp(b, syscall.RUSAGE_SELF)()
		for b.Loop() {
			i++
			path := filepath.Join(out, fmt.Sprintf("p%d.zip", i))
			if _, err := x.Export(context.Background(), newFakeGate().gate, req, path); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The work the rate names and nothing else: the clip laid
	// out, every chunk decrypted and muxed into 8 MiB blocks, and the
	// clip's SHA-256 on another goroutine; the blocks are then dropped
	// (no ZIP, no file, no fsync). A lower bound of an export's time.
	b.Run("decrypt-mux-hash", func(b *testing.B) {
		b.SetBytes(size)
		defer cpuPerOp(b, syscall.RUSAGE_SELF)()
		const block = 8 << 20
		free := make(chan []byte, 4)
		for range 4 {
			free <- make([]byte, block)
		}
		for b.Loop() {
			ctx := context.Background()
			c, err := playback.Build(ctx, StoreSource{s}, "cam-1", t0, end)
			if err != nil {
				b.Fatal(err)
			}
			full := make(chan []byte, 4)
			sum := make(chan [sha256.Size]byte)
			go func() {
				h := sha256.New()
				for blk := range full {
					h.Write(blk)
					free <- blk[:block]
				}
				var out [sha256.Size]byte
				h.Sum(out[:0])
				sum <- out
			}()
			st := c.NewStream(ctx)
			var n int64
			for {
				blk := <-free
				m, err := io.ReadFull(st, blk)
				n += int64(m)
				if m > 0 {
					full <- blk[:m]
				} else {
					free <- blk
				}
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			close(full)
			<-sum
			c.Close()
			if n != size {
				b.Fatalf("streamed %d bytes, the clip is %d", n, size)
			}
		}
	})
	b.Run("ffmpeg-copy", func(b *testing.B) {
		ffmpeg, err := exec.LookPath("ffmpeg")
		if err != nil {
			b.Skip("ffmpeg not installed")
		}
		out := filepath.Join(b.TempDir(), "out.mp4")
		b.SetBytes(size)
		defer cpuPerOp(b, syscall.RUSAGE_CHILDREN)()
		for b.Loop() {
			if o, err := exec.Command(ffmpeg, "-v", "error", "-y", "-i", in, "-c", "copy", out).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, o)
			}
		}
	})
}

// cpuPerOp reports the CPU time (user + system) of who (RUSAGE_SELF or
// RUSAGE_CHILDREN) from now until the returned function runs, per
// iteration, as "cpu-ms/op".
func cpuPerOp(b *testing.B, who int) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	}
}
