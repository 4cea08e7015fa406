package playback

import (
	"context"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// BenchmarkBuildView measures what a seek to a new view costs the server
// before its first byte: Build of a ten-minute view that starts 2 s into
// a one-minute segment, so it reads eleven sealed segments (index rows,
// data keys, parameter sets, frame indexes) and writes the MP4 header of
// 15,000 samples. The footage is the H.264 sample clip through a real
// encrypted store, as docs/benchmarks.md's seek benchmark has it.
func BenchmarkBuildView(b *testing.B) {
	t0 := media.Time90k(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(context.Background(), store.Config{
		Dir: b.TempDir(), Keys: keys, SegmentDuration: time.Minute,
		ChunkDuration: time.Second, SyncInterval: time.Second,
		Clock: clock.NewFake(media.FromTime90k(t0)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer("cam-1")
	if err != nil {
		b.Fatal(err)
	}
	record(b, w, media.CodecH264, t0, 12*60*25)
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	start := t0 + 2*media.Hz
	end := start + 10*60*media.Hz
	b.ResetTimer()
	var c *Clip
	for b.Loop() {
		c, err = Build(context.Background(), StoreSource{s}, "cam-1", start, end)
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(c.Segments) != 11 || c.Frames < 15000 {
		b.Fatalf("the view read %d segments and %d frames, want 11 and at least 15,000", len(c.Segments), c.Frames)
	}
	b.ReportMetric(float64(c.Frames), "samples")
}
