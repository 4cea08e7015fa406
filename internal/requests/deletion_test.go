package requests_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// needTool returns the path of an external tool, skipping the test when it
// is missing outside CI and failing it in CI.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (scripts/test installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// recordClip writes n frames of the H.264 sample clip (a key frame every
// second) to camera from start, through a real store writer.
func recordClip(t *testing.T, st *store.Store, camera string, start int64, n int) {
	t.Helper()
	w, err := st.Writer(camera)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Clip(w, media.CodecH264, start, n); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type oneSite struct{}

func (oneSite) Retention(string) registry.Retention { return registry.Retention{Days: 30} }
func (oneSite) Site(string) string                  { return "hq" }

// TestDeletionUnrecoverableOutsideIntact is issue 13's deletion test: a
// request's deletion destroys exactly its period on its camera through
// retention's range destruction — the request's own hold does not block
// it —, its receipt is attached to the request and verifies (the check of
// `gwanje destruction verify`: signature, keys and files gone), nothing of
// the period is left to play, and the second before and the second after
// it are intact and decode.
func TestDeletionUnrecoverableOutsideIntact(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	ctx := context.Background()
	dir := t.TempDir()
	t0 := kst(2026, 3, 1, 9, 0, 0)
	clk := clock.NewFake(t0.Add(time.Hour))
	keys := testKeys(t)
	st, err := store.Open(ctx, store.Config{Dir: dir, Keys: keys, SegmentDuration: 10 * time.Second,
		ChunkDuration: time.Second, SyncInterval: 10 * time.Millisecond, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recordClip(t, st, "gate", media.Time90k(t0), 40*25) // 40 s
	led := &fakeLedger{}
	eng, err := retention.New(ctx, retention.Options{Store: st, Dir: dir, Rules: oneSite{}, Location: seoul, Ledger: led,
		Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rst := openSQLite(t, t.TempDir(), keys)
	defer rst.Close()
	svc := requests.New(requests.Config{Store: rst, Calendar: requests.Calendar{Zone: seoul}, Holds: eng.Holds(),
		Camera: func(id string) (string, bool) { return "hq", id == "gate" }, Clock: clk, Logger: slog.New(slog.DiscardHandler),
		Ledger: led, Destroyer: eng})

	// The period asked: [09:00:12, 09:00:23), inside the third segment
	// and across into the fourth.
	from, to := t0.Add(12*time.Second), t0.Add(23*time.Second)
	in := input()
	in.Types, in.From, in.To = []requests.Type{requests.Deletion}, from, to
	r, err := svc.Submit(ctx, in, client, "kim")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DestroyRange(ctx, "gate", from, to, "kim", ""); err == nil {
		t.Fatal("the request's hold does not keep its footage from an ordinary range destruction")
	}
	if _, err := svc.RecordIdentity(ctx, r.ID, "신분증 대조", "", kim); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Decide(ctx, r.ID, approve(requests.Deletion), lee); err != nil {
		t.Fatal(err)
	}
	ids, err := svc.Delete(ctx, r.ID, lee)
	if err != nil || len(ids) != 1 {
		t.Fatalf("deletion: %v %v", ids, err)
	}
	got, _, _ := rst.Get(ctx, r.ID)
	if len(got.Fulfilments) != 1 || len(got.Fulfilments[0].Receipts) != 1 || got.Fulfilments[0].Receipts[0] != ids[0] {
		t.Fatalf("receipts attached %+v", got.Fulfilments)
	}

	// The receipt verifies: signed by this data directory's key, every
	// destroyed segment's key out of the index, its file gone.
	v, err := retention.VerifyReceipt(retention.ReceiptPath(dir, ids[0]), dir, "")
	if err != nil || !v.OK() {
		t.Fatalf("destruction verify: %v %+v", err, v)
	}
	if v.Receipt.Ref != r.Receipt || v.Receipt.Reason != retention.ReasonDataSubject || len(v.Receipt.Segments) == 0 {
		t.Fatalf("receipt %+v", v.Receipt)
	}
	for _, s := range v.Receipt.Segments {
		if _, err := os.Stat(filepath.Join(dir, "segments", "gate", strconv.FormatInt(s.ID, 10)+".gws")); err == nil {
			t.Errorf("segment %d's file is still there", s.ID)
		}
		if ok, _ := st.Has(ctx, s.ID); ok {
			t.Errorf("segment %d is still in the index", s.ID)
		}
	}
	// Nothing of the period is left.
	if segs, err := st.Segments(ctx, "gate", media.Time90k(from), media.Time90k(to)); err != nil || len(segs) != 0 {
		t.Fatalf("footage left in the period: %d segments %v", len(segs), err)
	}
	if c, err := playback.Build(ctx, playback.StoreSource{Store: st}, "gate", media.Time90k(from), media.Time90k(to)); err == nil {
		c.Close()
		t.Fatal("the deleted period still plays")
	}
	// Its 파기 row carries the request's number.
	var destroyed []ledger.Entry
	for _, e := range led.entries() {
		if e.Kind == ledger.Destruction {
			destroyed = append(destroyed, e)
		}
	}
	if len(destroyed) != 1 || destroyed[0].Ref != r.Receipt || destroyed[0].Actor != "lee" {
		t.Fatalf("파기 rows %+v", destroyed)
	}

	// The second before and the second after play and decode.
	for _, w := range []struct {
		name       string
		start, end time.Time
	}{{"the second before", from.Add(-time.Second), from}, {"the second after", to, to.Add(time.Second)}} {
		c, err := playback.Build(ctx, playback.StoreSource{Store: st}, "gate", media.Time90k(w.start), media.Time90k(w.end))
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		p := filepath.Join(t.TempDir(), "clip.mp4")
		f, _ := os.Create(p)
		_, err = io.Copy(f, c.File.NewReader())
		f.Close()
		c.Close()
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(ffmpeg, "-v", "error", "-i", p, "-f", "framemd5", "-")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("%s: ffmpeg: %v: %s", w.name, err, stderr.String())
		}
		if frames := strings.Count(string(out), "\n0,"); frames < 20 {
			t.Errorf("%s: %d frames decoded, want a second's (25)", w.name, frames)
		}
	}
}
