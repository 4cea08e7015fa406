package web

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// The home page lists today's recording gaps of a camera recorded in a
// real store (the index summarises the day; no segment listing): a gap
// between two runs and the time since recording stopped, in the
// institution's zone, and no gap inside a run.
func TestHomeListsTodaysGapsFromTheStore(t *testing.T) {
	ctx := context.Background()
	rec := time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC) // 20:00 KST
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{Dir: t.TempDir(), Keys: keys, SegmentDuration: 10 * time.Second,
		ChunkDuration: time.Second, SyncInterval: time.Second, Clock: clock.NewFake(rec)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := st.Writer("cam-a")
	if err != nil {
		t.Fatal(err)
	}
	run := func(from time.Time, seconds int) {
		if _, err := storetest.Clip(w, media.CodecH264, media.Time90k(from), seconds*25); err != nil {
			t.Fatal(err)
		}
	}
	run(rec, 30)                    // 20:00:00–20:00:30 KST, three segments
	w.Break("camera lost")          //
	run(rec.Add(5*time.Minute), 30) // 20:05:00–20:05:30
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	h := newHarnessWith(t, 1, func(o *Options) { o.Footage = playback.StoreSource{Store: st} })
	page := readAll(t, h.do("GET", "/", "viewer", nil))
	dd := regexp.MustCompile(`(?s)<dd class="gaps">(.*?)</dd>`).FindAllStringSubmatch(page, -1)
	var gaps []string
	for _, m := range dd {
		if strings.Contains(m[1], "<li>") {
			gaps = append(gaps, regexp.MustCompile(`<li>(.*?)</li>`).FindAllString(m[1], -1)...)
		}
	}
	want := []string{"<li>2026-06-01 20:00:30 KST – 2026-06-01 20:05:00 KST</li>", "<li>2026-06-01 20:05:30 KST – 2026-06-01 21:01:10 KST</li>"}
	if strings.Join(gaps, "\n") != strings.Join(want, "\n") {
		t.Errorf("gaps on the home page:\n%s\nwant:\n%s", strings.Join(gaps, "\n"), strings.Join(want, "\n"))
	}
}
