package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// ArchiveConfig describes a seek benchmark's archive: every one-minute
// segment that Cameras cameras recording for Days days before End have,
// each a real sealed segment written through the store, of which Targets
// minutes (chosen by Seed) hold real 25 fps H.264 and the rest a two-frame
// stand-in (docs/benchmarks.md, "Playback seek on a 30-day archive").
type ArchiveConfig struct {
	Cameras int
	Days    int
	// End is the end of the archive (exclusive): a midnight.
	End     time.Time
	Targets int
	Seed    uint64
	// Workers write cameras in parallel (default 3).
	Workers int `json:"-"`
	// Progress, when set, is called now and then with the segments written.
	Progress func(done, total int) `json:"-"`
}

// Archive is a built archive: its data directory (index.db and segments/)
// and the minutes of real video.
type Archive struct {
	Config  ArchiveConfig `json:"config"`
	Targets []Target      `json:"targets"`
	// Segments is the number of segments written.
	Segments int `json:"segments"`
	// Built is how long building took.
	Built time.Duration `json:"built"`
}

// Target is a minute of real video in the archive.
type Target struct {
	Camera string    `json:"camera"`
	Start  time.Time `json:"start"`
}

// ArchiveCamera names camera i (1-based) of an archive.
func ArchiveCamera(i int) string { return fmt.Sprintf("cam-%02d", i) }

const archiveDone = "archive.json"

// LoadArchive returns the archive built under dir with cfg, or ok false if
// none is there (or one with other parameters).
func LoadArchive(dir string, cfg ArchiveConfig) (*Archive, bool) {
	b, err := os.ReadFile(filepath.Join(dir, archiveDone))
	if err != nil {
		return nil, false
	}
	var a Archive
	if json.Unmarshal(b, &a) != nil {
		return nil, false
	}
	c := a.Config
	if c.Cameras != cfg.Cameras || c.Days != cfg.Days || !c.End.Equal(cfg.End) || c.Targets != cfg.Targets || c.Seed != cfg.Seed {
		return nil, false
	}
	return &a, true
}

// BuildArchive writes the archive into dir/data (removing anything there)
// with keys, fast: through store.OpenFixture (no fsync). The data
// directory is an ordinary one once built; archive.json is written last.
func BuildArchive(ctx context.Context, dir string, keys *seal.Keyring, cfg ArchiveConfig) (*Archive, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 3
	}
	t0 := time.Now()
	os.Remove(filepath.Join(dir, archiveDone))
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return nil, err
	}
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		return nil, err
	}
	real, err := realMinute(c)
	if err != nil {
		return nil, err
	}
	a := &Archive{Config: cfg}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	minutes := cfg.Days * 1440
	want := map[string]map[int]bool{}
	for chosen := 0; chosen < cfg.Targets; {
		cam := ArchiveCamera(1 + rng.IntN(cfg.Cameras))
		m := 1 + rng.IntN(minutes-2) // never the first or last minute
		if want[cam] == nil {
			want[cam] = map[int]bool{}
		}
		if want[cam][m] || want[cam][m-1] || want[cam][m+1] {
			continue
		}
		want[cam][m] = true
		chosen++
	}
	begin := cfg.End.AddDate(0, 0, -cfg.Days)
	for i := 1; i <= cfg.Cameras; i++ {
		cam := ArchiveCamera(i)
		for m := 0; m < minutes; m++ {
			if want[cam][m] {
				a.Targets = append(a.Targets, Target{Camera: cam, Start: begin.Add(time.Duration(m) * time.Minute)})
			}
		}
	}
	rng.Shuffle(len(a.Targets), func(i, k int) { a.Targets[i], a.Targets[k] = a.Targets[k], a.Targets[i] })

	st, err := store.OpenFixture(ctx, store.Config{Dir: data, Keys: keys, SegmentDuration: time.Minute})
	if err != nil {
		return nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		done  int
		first error
	)
	work := make(chan int)
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cam := ArchiveCamera(i)
				err := writeCamera(ctx, st, cam, media.Time90k(begin), minutes, want[cam], c.Params, real, func(n int) {
					mu.Lock()
					done += n
					if cfg.Progress != nil {
						cfg.Progress(done, cfg.Cameras*minutes)
					}
					mu.Unlock()
				})
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %w", cam, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 1; i <= cfg.Cameras; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := st.Close(); err != nil && first == nil {
		first = err
	}
	if first != nil {
		return nil, first
	}
	os.Remove(filepath.Join(data, "store.lock"))
	a.Segments = cfg.Cameras * minutes
	a.Built = time.Since(t0)
	b, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		return nil, err
	}
	return a, os.WriteFile(filepath.Join(dir, archiveDone), b, 0o600)
}

// realMinute is a minute of the clip at 25 fps (1500 frames), looped from
// its first key frame.
func realMinute(c *clip.Clip) ([]media.Frame, error) {
	out := make([]media.Frame, 0, 1500)
	for i := 0; len(out) < 1500; i++ {
		au := c.AUs[i%len(c.AUs)]
		data, err := media.ToAVCC(au.NALUs)
		if err != nil {
			return nil, err
		}
		out = append(out, media.Frame{Key: au.Key, Params: c.Params, Data: data})
	}
	return out, nil
}

// writeCamera writes minutes one-minute segments of cam from start: real
// video for the minutes in real, else a key frame and a delta frame of a
// few bytes each (the stand-in the store's own fixtures use).
func writeCamera(ctx context.Context, st *store.Store, cam string, start int64, minutes int, real map[int]bool,
	params *media.Params, video []media.Frame, progress func(int)) error {
	w, err := st.Writer(cam)
	if err != nil {
		return err
	}
	const minute = 60 * media.Hz
	key := media.Frame{Key: true, Params: params, Data: []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}}
	delta := media.Frame{Params: params, Data: []byte{0, 0, 0, 3, 0x41, 0x9a, 0x02}}
	n := 0
	for m := range minutes {
		if err := ctx.Err(); err != nil {
			w.Close()
			return err
		}
		t := start + int64(m)*minute
		if real[m] {
			for i := range video {
				f := video[i]
				f.Wall = t + int64(i)*clip.FrameDuration
				if err := w.WriteFrame(&f); err != nil {
					w.Close()
					return err
				}
			}
		} else {
			key.Wall, delta.Wall = t, t+minute/2
			if err := w.WriteFrame(&key); err != nil {
				w.Close()
				return err
			}
			if err := w.WriteFrame(&delta); err != nil {
				w.Close()
				return err
			}
		}
		w.Break("archive segment end")
		if n++; n == 1440 {
			progress(n)
			n = 0
		}
	}
	progress(n)
	return w.Close()
}
