package bench

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// The seek benchmark's archive at a tiny scale: every minute of every
// camera is a closed segment, the targets' windows (and only they) hold
// real 25 fps video that plays (a clip of the first window is built), the
// minutes touch (one run a day), and a second build with the same
// parameters is found instead of rebuilt.
func TestBuildArchiveSmall(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := seal.CreateKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := ArchiveConfig{Cameras: 2, Days: 1, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Targets: 3, Window: 2, Seed: 1}
	a, err := BuildArchive(ctx, dir, keys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Targets) != 3 || a.Segments != 2*1440 || a.Real != 6 {
		t.Fatalf("%d targets, %d segments, %d real", len(a.Targets), a.Segments, a.Real)
	}
	if _, ok := LoadArchive(dir, cfg); !ok {
		t.Fatal("the built archive is not found")
	}
	if _, ok := LoadArchive(dir, ArchiveConfig{Cameras: 3, Days: 1, End: cfg.End, Targets: 3, Window: 2, Seed: 1}); ok {
		t.Fatal("an archive of other parameters is taken for this one")
	}
	st, err := store.Open(ctx, store.Config{Dir: filepath.Join(dir, "data"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	real := map[Target]bool{}
	for _, tg := range a.Targets {
		real[Target{tg.Camera, tg.Start.UTC()}] = true
		real[Target{tg.Camera, tg.Start.Add(time.Minute).UTC()}] = true
	}
	tg := a.Targets[0]
	cl, err := playback.Build(ctx, playback.StoreSource{Store: st}, tg.Camera, media.Time90k(tg.Start.Add(2*time.Second)),
		media.Time90k(tg.Start.Add(2*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, cl.NewReader(ctx))
	cl.Close()
	if err != nil || n < 1<<20 {
		t.Fatalf("the first window's clip: %d bytes, %v", n, err)
	}
	begin := media.Time90k(cfg.End.AddDate(0, 0, -1))
	for i := 1; i <= 2; i++ {
		segs, err := st.Segments(ctx, ArchiveCamera(i), begin, media.Time90k(cfg.End))
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1440 {
			t.Fatalf("%s: %d segments", ArchiveCamera(i), len(segs))
		}
		for k, s := range segs {
			if want := begin + int64(k)*60*media.Hz; s.Start != want || s.End != want+60*media.Hz {
				t.Fatalf("%s segment %d: [%d, %d), want [%d, +1 min)", ArchiveCamera(i), k, s.Start, s.End, want)
			}
			if wantFrames := map[bool]int{true: 1500, false: 2}[real[Target{ArchiveCamera(i), media.FromTime90k(s.Start).UTC()}]]; s.Frames != wantFrames {
				t.Fatalf("%s segment %d: %d frames, want %d", ArchiveCamera(i), k, s.Frames, wantFrames)
			}
		}
	}
}
