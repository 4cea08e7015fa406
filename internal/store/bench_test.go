package store

import (
	"context"
	"testing"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
)

// BenchmarkWriteFrame measures WriteFrame with encryption, chunking, the
// background syncer and segment cuts every 60 s of footage: the clip's
// 2 Mbit/s stream, so MB/s over 0.25 is how many cameras one core keeps up
// with.
func BenchmarkWriteFrame(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir, Keys: testKeys, Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, _ := s.Writer("bench")
	in := frames(b, media.CodecH264, t0, 250)
	var total int64
	for _, f := range in {
		total += int64(len(f.Data))
	}
	b.SetBytes(total / int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	f := media.Frame{}
	for i := 0; b.Loop(); i++ {
		f = *in[i%len(in)]
		f.Wall = t0 + int64(i)*clip.FrameDuration
		if err := w.WriteFrame(&f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	w.Close()
}
