package retention

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// BenchmarkExpireDay expires one day of one-minute segments of
// GWANJE_BENCH_CAMERAS cameras (default 256: 368,640 segments) in one
// retention run, with a real ledger, while GWANJE_BENCH_RECORDERS cameras
// (default 64) keep recording the 2 Mbit/s clip in real time, with
// GWANJE_BENCH_BATCH segments per index transaction (default the engine's).
// Building the fixture is outside the timed part. Run it once:
//
//	go test -run '^$' -bench ExpireDay -benchtime 1x -timeout 30m ./internal/retention/
//
// It reports segments/s, and for the recorders the frames written, the
// frames lost (a write that failed or a segment missing frames) and the
// slowest WriteFrame.
func BenchmarkExpireDay(b *testing.B) {
	cams, recs := envInt("GWANJE_BENCH_CAMERAS", 256), envInt("GWANJE_BENCH_RECORDERS", 64)
	ctx := context.Background()
	day := kst("2026-03-01 00:00:00")
	b.StopTimer()
	for range b.N {
		dir := b.TempDir()
		if err := expireFixture(ctx, b, dir, cams, day); err != nil {
			b.Fatal(err)
		}

		st, err := store.Open(ctx, store.Config{Dir: dir, Keys: testKeys, SegmentDuration: time.Minute, Clock: clock.Real{}})
		if err != nil {
			b.Fatal(err)
		}
		led, err := ledger.Open(ctx, ledger.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
		eng, err := New(ctx, Options{Store: st, Dir: dir, Rules: rules{}, Location: seoul, Ledger: led,
			Clock: clock.NewFake(kst("2026-04-01 00:00:30")), Config: Config{BatchSize: envInt("GWANJE_BENCH_BATCH", 0)}, Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		rec := startRecorders(b, st, recs, kst("2026-03-31 23:00:00"))
		for deadline := time.Now().Add(30 * time.Second); rec.written.Load() < int64(recs)*50; {
			if time.Now().After(deadline) {
				b.Fatal("recorders did not start")
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.StartTimer()
		start := time.Now()
		rep, err := eng.RunOnce(ctx)
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		written, lost, slowest := rec.stop(b, st)
		if rep.Expired != cams*1440 || len(rep.Receipts) != cams {
			b.Fatalf("expired %d segments in %d receipts, want %d in %d", rep.Expired, len(rep.Receipts), cams*1440, cams)
		}
		b.ReportMetric(float64(rep.Expired)/elapsed.Seconds(), "segments/s")
		b.ReportMetric(elapsed.Seconds(), "s/run")
		b.ReportMetric(float64(written), "frames-recorded")
		b.ReportMetric(float64(lost), "frames-lost")
		b.ReportMetric(float64(slowest.Milliseconds()), "max-write-ms")
		b.Logf("slowest write began %v into the run; %d writes took over 100 ms",
			time.Unix(0, rec.slowestAt.Load()).Sub(start).Round(time.Millisecond), rec.slow.Load())
		eng.Close()
		led.Close()
		st.Close()
	}
}

// expireFixture fills dir with one day of one-minute segments of cams
// cameras. With GWANJE_BENCH_FIXTURE=DIR set it builds the fixture once
// under DIR/<cams> and copies it into dir on later runs (a copy of 368,640
// files takes a fraction of building them); the copy is synced so the timed
// part starts on a quiet disk.
func expireFixture(ctx context.Context, b *testing.B, dir string, cams int, day time.Time) error {
	cache := os.Getenv("GWANJE_BENCH_FIXTURE")
	build := dir
	if cache != "" {
		build = filepath.Join(cache, strconv.Itoa(cams))
		if _, err := os.Stat(filepath.Join(build, "ready")); err == nil {
			t0 := time.Now()
			if err := os.CopyFS(dir, os.DirFS(build)); err != nil {
				return err
			}
			if err := os.Remove(filepath.Join(dir, "ready")); err != nil {
				return err
			}
			syscall.Sync()
			b.Logf("fixture: copied %s in %v", build, time.Since(t0).Round(time.Second))
			return nil
		}
		os.RemoveAll(build)
	}
	fx, err := store.OpenFixture(ctx, store.Config{Dir: build, Keys: testKeys, SegmentDuration: time.Minute})
	if err != nil {
		return err
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if err := storetest.Footage(fx, fmt.Sprintf("old-%03d", c), media.Time90k(day), time.Minute, 1440); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for c := range cams {
		work <- c
	}
	close(work)
	wg.Wait()
	if err := fx.Close(); err != nil {
		return err
	}
	b.Logf("fixture: %d segments in %v", cams*1440, time.Since(t0).Round(time.Second))
	if cache == "" {
		syscall.Sync()
		return nil
	}
	os.Remove(filepath.Join(build, "store.lock"))
	if err := os.WriteFile(filepath.Join(build, "ready"), nil, 0o600); err != nil {
		return err
	}
	return expireFixture(ctx, b, dir, cams, day)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type recorders struct {
	stopc   chan struct{}
	wg      sync.WaitGroup
	written atomic.Int64
	failed  atomic.Int64
	slowest atomic.Int64 // ns
	// slowestAt is when the slowest write started (Unix ns); slow counts
	// writes that took over 100 ms.
	slowestAt, slow atomic.Int64
	n               int
}

// startRecorders writes the H.264 clip at 25 fps, paced by the real clock,
// for n cameras, stamped from wall.
func startRecorders(b *testing.B, st *store.Store, n int, wall time.Time) *recorders {
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		b.Fatal(err)
	}
	frames := make([]media.Frame, len(c.AUs))
	for i, au := range c.AUs {
		var d []byte
		for _, nal := range au.NALUs {
			d = binary.BigEndian.AppendUint32(d, uint32(len(nal)))
			d = append(d, nal...)
		}
		frames[i] = media.Frame{Key: au.Key, Params: c.Params, Data: d}
	}
	r := &recorders{stopc: make(chan struct{}), n: n}
	begin := time.Now()
	for i := range n {
		w, err := st.Writer(fmt.Sprintf("live-%02d", i))
		if err != nil {
			b.Fatal(err)
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer w.Close()
			for k := 0; ; k++ {
				due := begin.Add(time.Duration(k) * 40 * time.Millisecond)
				select {
				case <-r.stopc:
					return
				case <-time.After(time.Until(due)):
				}
				f := frames[k%len(frames)]
				f.Wall = media.Time90k(wall) + int64(k)*clip.FrameDuration
				t := time.Now()
				if err := w.WriteFrame(&f); err != nil {
					r.failed.Add(1)
					continue
				}
				if d := time.Since(t).Nanoseconds(); d > r.slowest.Load() {
					r.slowest.Store(d)
					r.slowestAt.Store(t.UnixNano())
				}
				if time.Since(t) > 100*time.Millisecond {
					r.slow.Add(1)
				}
				r.written.Add(1)
			}
		}()
	}
	return r
}

// stop ends the recorders and counts frames that did not reach the store.
func (r *recorders) stop(b *testing.B, st *store.Store) (written, lost int64, slowest time.Duration) {
	close(r.stopc)
	r.wg.Wait()
	var stored int64
	for i := range r.n {
		segs, err := st.Segments(context.Background(), fmt.Sprintf("live-%02d", i), 0, 1<<62)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range segs {
			stored += int64(s.Frames)
		}
	}
	written = r.written.Load()
	return written, written - stored + r.failed.Load(), time.Duration(r.slowest.Load())
}
