package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// TestStillsFollowFootageRetention: the still frames kept by device
// checks are destroyed when footage of the same day would be (30 days in
// the demo registry), never while a hold covers them, each run writing
// one 파기 row per camera that names the stills destroyed.
func TestStillsFollowFootageRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	seoul := mustZone("Asia/Seoul")
	day0 := time.Date(2026, 3, 1, 12, 0, 0, 0, seoul)
	clk := clock.NewFake(day0)
	log := slog.New(slog.DiscardHandler)
	y, err := renderDemoRegistry([]demoCamera{{ID: "demo-1", URL: "rtsp://127.0.0.1:1/demo-1"}}, "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse("registry.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{Dir: dir, Keys: keys, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lg, err := ledger.Open(ctx, ledger.Options{Dir: dir, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	stills, err := health.OpenStills(ctx, health.StillsConfig{Dir: dir + "/stills", Keys: keys, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer stills.Close()
	cfg := config.Default()
	cfg.DataDir = dir
	a := &app{cfg: cfg, log: log, clk: clk, reg: reg, store: st, ledger: lg, health: &healthParts{stills: stills}}
	p := &retentionParts{loc: reg.Location(), rules: retention.RegistryRules(reg, log)}
	if p.engine, err = retention.New(ctx, retention.Options{Store: st, Dir: dir, Rules: p.rules, Location: p.loc,
		Ledger: lg, Clock: clk, Logger: log, Config: retentionConfig(cfg.Retention)}); err != nil {
		t.Fatal(err)
	}
	defer p.engine.Close()
	a.retention = p

	first, err := stills.Put(ctx, "demo-1", day0, []byte("jpeg of day 0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	held, err := stills.Put(ctx, "demo-1", day0.AddDate(0, 0, 5), []byte("jpeg of day 5"), []string{"black"})
	if err != nil {
		t.Fatal(err)
	}
	// Day 7 is after the hold's end: due on 8 April like any other.
	after, err := stills.Put(ctx, "demo-1", day0.AddDate(0, 0, 7), []byte("jpeg of day 7"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.engine.Holds().Add(ctx, retention.Hold{Owner: retention.OwnerManual, Reason: "수사 협조", Actor: "kim",
		Cameras: []string{"demo-1"}, From: day0.AddDate(0, 0, 5), To: day0.AddDate(0, 0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	present := func() []int64 {
		t.Helper()
		ss, err := stills.List(ctx, "demo-1", day0.AddDate(-1, 0, 0), day0.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, s := range ss {
			ids = append(ids, s.ID)
		}
		return ids
	}
	run := func(at time.Time) {
		t.Helper()
		clk.Set(at)
		if err := a.expireStills(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// 30d: footage of 1 March is kept through 31 March, due at 00:00 of
	// 1 April (Seoul).
	run(time.Date(2026, 3, 31, 23, 59, 0, 0, seoul))
	if got := present(); len(got) != 3 {
		t.Fatalf("a minute before due: stills %v, want all three", got)
	}
	run(time.Date(2026, 4, 1, 0, 0, 0, 0, seoul))
	if got := present(); len(got) != 2 || got[0] != held.ID || got[1] != after.ID {
		t.Fatalf("at due time: stills %v, want %d and %d", got, held.ID, after.ID)
	}
	run(time.Date(2026, 4, 20, 0, 0, 0, 0, seoul)) // days 5 and 7 are due; only day 5 is held
	if got := present(); len(got) != 1 || got[0] != held.ID {
		t.Fatalf("after day 7's due time: stills %v, want only the held %d", got, held.ID)
	}
	if err := p.engine.Holds().Release(ctx, h.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	run(time.Date(2026, 4, 20, 0, 1, 0, 0, seoul))
	if got := present(); len(got) != 0 {
		t.Fatalf("after the hold: stills %v, want none", got)
	}

	ents, err := lg.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.Destruction}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 3 {
		t.Fatalf("%d 파기 rows, want 3 (one per run that destroyed)", len(ents))
	}
	for i, want := range []int64{first.ID, after.ID, held.ID} {
		e := ents[i]
		if e.Object != "점검 정지화상 1건" || len(e.Cameras) != 1 || e.Cameras[0] != "demo-1" || e.Site != "hq" ||
			!strings.Contains(e.Detail, "still "+strconv.FormatInt(want, 10)+" ") || !strings.Contains(e.Detail, "sha256:") {
			t.Errorf("파기 row %d: %+v", i, e)
		}
	}
}
