package retention

import (
	"context"
	"github.com/gwanje/gwanje/internal/errs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// TestCapacity fills a small quota while a camera keeps recording beside
// the runs: capacity deletion keeps the footage under the quota, oldest
// first, recording never fails, the promise-broken alarm is raised for
// cameras cut below 30 days, and held footage is never touched. When only
// held footage is left, the storage alarm says so and recording goes on.
func TestCapacity(t *testing.T) {
	start := kst("2026-03-01 08:00:00")
	e := newEnv(t, start.Add(24*time.Hour), rules{}, Config{})
	ctx := context.Background()
	seg := e.record("cam-a", start, 1)[0]
	segBytes := seg.Bytes
	quota := 40 * segBytes
	e.eng.cfg.Capacity.Quota = config.ByteSize(quota)
	// The first hour of cam-a is held.
	hold, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerRequest, Ref: "req-7", Reason: "열람 청구 처리 중",
		Cameras: []string{"cam-a"}, From: start, To: start.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	heldSegs := append([]store.Segment{seg}, e.record("cam-a", start.Add(time.Minute), 9)...)

	// cam-b records continuously, 5 minutes at a time, while runs go on.
	var wg sync.WaitGroup
	var recErr error
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := storetest.Footage(e.st, "cam-b", media.Time90k(start.Add(time.Duration(10+5*i)*time.Minute)), time.Minute, 5); err != nil {
				recErr = err
				return
			}
			if i == 60 {
				return
			}
		}
	}()
	runs := 0
	for {
		rep := e.run()
		runs++
		if rep.Short > 0 {
			t.Fatalf("run %d: %d bytes short with unheld footage left", runs, rep.Short)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	close(stop)
	if recErr != nil {
		t.Fatalf("recording failed beside capacity deletion: %v", recErr)
	}
	rep := e.run() // once more after the last write
	cs, _ := e.st.Cameras(ctx)
	var used int64
	for _, c := range cs {
		used += c.Bytes
	}
	if used > quota {
		t.Errorf("footage %d bytes after capacity runs, quota %d", used, quota)
	}
	// Recording reached its last minute.
	last := start.Add(time.Duration(10+5*60+5) * time.Minute)
	if b, _ := e.st.Segments(ctx, "cam-b", media.Time90k(last.Add(-time.Minute)), media.Time90k(last)); len(b) != 1 {
		t.Errorf("cam-b's last minute is missing: %+v", b)
	}
	for _, s := range heldSegs {
		if !e.has(s.ID) || !e.fileExists("cam-a", s.ID) {
			t.Errorf("held segment %d was destroyed", s.ID)
		}
	}
	msg, ok := e.alarms.get("cam-b")
	if !ok || !strings.Contains(msg, "30일") || !strings.Contains(msg, "2026-01-31T00:00:00+09:00") {
		t.Errorf("cam-b promise-broken alarm: %q, %v", msg, ok)
	}
	stt, _ := e.eng.Status(ctx)
	for _, c := range stt.Cameras {
		if c.Camera == "cam-b" && !c.Broken {
			t.Errorf("status does not show cam-b's broken promise: %+v", c)
		}
	}
	// Oldest first: what cam-b has left is its newest footage, contiguous.
	bs, _ := e.st.Segments(ctx, "cam-b", 0, 1<<62)
	for i := 1; i < len(bs); i++ {
		if bs[i].Start != bs[i-1].End {
			t.Fatalf("cam-b has a hole at %v: capacity deletion was not oldest first", at(bs[i-1].End, seoul))
		}
	}
	for _, r := range e.verifyAll() {
		if r.Reason != ReasonCapacity {
			t.Errorf("receipt %s: reason %s", r.ID, r.Reason)
		}
	}
	if ents := e.led.destructions(); len(ents) == 0 || ents[0].Purpose != "저장용량 부족" {
		t.Errorf("ledger rows: %+v", ents)
	}
	_ = rep

	// Hold everything: nothing can be freed, the storage alarm says why,
	// and recording continues.
	if _, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerProvision, Ref: "prov-1", Reason: "경찰 제공 진행 중",
		From: start, To: start.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.record("cam-c", last, 30)
	rep = e.run()
	if rep.Short <= 0 || rep.Capacity != 0 {
		t.Errorf("with everything held: short %d, destroyed %d", rep.Short, rep.Capacity)
	}
	if msg, ok := e.alarms.get(storageSubject); !ok || !strings.Contains(msg, "under holds") {
		t.Errorf("storage alarm: %q %v", msg, ok)
	}
	e.record("cam-c", last.Add(30*time.Minute), 2)
	// Releasing the holds frees the volume and clears the storage alarm.
	if n, err := e.eng.Holds().ReleaseOwned(ctx, OwnerProvision, "prov-1", "lee"); n != 1 || err != nil {
		t.Fatalf("ReleaseOwned = %d, %v", n, err)
	}
	// The request's hold is its own to release (by hand: hold.owned).
	if err := e.eng.Holds().Release(ctx, hold.ID, "lee"); errs.CodeOf(err) != "hold.owned" {
		t.Fatalf("releasing a request's hold by hand: %v", err)
	}
	if n, err := e.eng.Holds().ReleaseOwned(ctx, OwnerRequest, "req-7", "lee"); n != 1 || err != nil {
		t.Fatalf("ReleaseOwned(request) = %d, %v", n, err)
	}
	rep = e.run()
	if rep.Capacity == 0 || rep.Short != 0 {
		t.Errorf("after release: destroyed %d, short %d", rep.Capacity, rep.Short)
	}
	if _, ok := e.alarms.get(storageSubject); ok {
		t.Error("storage alarm still active after freeing")
	}
	if s, _ := storeCheck(e); s != "" {
		t.Error(s)
	}
}

// TestBrokenPromiseClears: the promise-broken alarm of a camera clears once
// everything capacity destroyed early would have been due anyway.
func TestBrokenPromiseClears(t *testing.T) {
	start := kst("2026-03-01 08:00:00")
	e := newEnv(t, start.Add(time.Hour), rules{"cam": registry.Retention{Days: 1}}, Config{})
	segs := e.record("cam", start, 20)
	e.eng.cfg.Capacity.Quota = config.ByteSize(10 * segs[0].Bytes)
	e.run()
	if _, ok := e.alarms.get("cam"); !ok {
		t.Fatal("no promise-broken alarm after capacity deletion of 1-day footage")
	}
	e.eng.cfg.Capacity.Quota = 0
	e.clk.Set(kst("2026-03-02 23:59:59"))
	e.run()
	if _, ok := e.alarms.get("cam"); !ok {
		t.Fatal("alarm cleared before the destroyed footage was due")
	}
	e.clk.Set(kst("2026-03-03 00:00:01"))
	e.run()
	if _, ok := e.alarms.get("cam"); ok {
		t.Error("alarm still active once the destroyed footage is due")
	}
}

// TestCapacityStatFS: the percentage and free-space limits come from the
// file system (faked).
func TestCapacityStatFS(t *testing.T) {
	start := kst("2026-03-01 08:00:00")
	e := newEnv(t, start.Add(3*time.Hour), rules{}, Config{})
	segs := e.record("cam", start, 150)
	var free int64 = 1000
	e.eng.opt.StatFS = func(string) (int64, int64, error) { return 100_000, free, nil }
	e.eng.cfg.Capacity.MinFree = config.ByteSize(1000 + 5*segs[0].Bytes)
	rep := e.run()
	if rep.Capacity < 5 || rep.Capacity > 7 {
		t.Errorf("min free: destroyed %d segments, want about 5 (plus headroom)", rep.Capacity)
	}
	e.eng.cfg.Capacity.MinFree = 0
	e.eng.cfg.Capacity.MaxUsedPercent = 90
	free = 5000 // 95% used; down to 95% of the 90% limit: free 95000 - 85500 = 9500 bytes
	rep = e.run()
	if got := int64(rep.Capacity) * segs[0].Bytes; got < 9500 || got >= 9500+segs[0].Bytes {
		t.Errorf("max used percent: freed %d bytes, want at least 4500", got)
	}
}

// announced is rules whose policy announces early deletion by capacity
// for the cameras listed.
type announced struct {
	rules
	early map[string]bool
}

func (a announced) EarlyCapacityDeletion(c string) bool { return a.early[c] }

// TestCapacityEarlyDeletionAnnounced: where the policy announces early
// deletion by capacity, footage cut before its period ends is a 파기 by
// capacity that says so, with no broken-promise alarm; where it does not
// (cam-b beside it), the same cut raises the alarm and its row says it
// broke the promise.
func TestCapacityEarlyDeletionAnnounced(t *testing.T) {
	start := kst("2026-03-01 08:00:00")
	r := announced{rules{"cam-a": registry.Retention{Days: 1}, "cam-b": registry.Retention{Days: 1}}, map[string]bool{"cam-a": true}}
	e := newEnv(t, start.Add(time.Hour), r, Config{})
	segs := e.record("cam-a", start, 20)
	e.record("cam-b", start.Add(20*time.Minute), 20)
	e.eng.cfg.Capacity.Quota = config.ByteSize(5 * segs[0].Bytes)
	rep := e.run()
	if rep.Capacity < 30 || rep.EarlyAnnounced != 20 {
		t.Fatalf("destroyed %d, %d of them as announced; want cam-a's 20 announced", rep.Capacity, rep.EarlyAnnounced)
	}
	if msg, ok := e.alarms.get("cam-a"); ok {
		t.Errorf("announced early deletion raised the broken-promise alarm: %q", msg)
	}
	if _, ok := e.alarms.get("cam-b"); !ok {
		t.Error("unannounced early deletion raised no alarm")
	}
	stt, _ := e.eng.Status(context.Background())
	for _, c := range stt.Cameras {
		if c.Broken != (c.Camera == "cam-b") {
			t.Errorf("status of %s: broken %v", c.Camera, c.Broken)
		}
	}
	rows := map[string]string{}
	for _, en := range e.led.destructions() {
		if en.Purpose != "저장용량 부족" {
			t.Errorf("파기 row purpose %q", en.Purpose)
		}
		rows[en.Cameras[0]] = en.Detail
	}
	if !strings.Contains(rows["cam-a"], "as the policy announces") || !strings.Contains(rows["cam-b"], "a broken promise") {
		t.Errorf("파기 rows: %v", rows)
	}
}

// TestRegistryCapacityRule: the registry's capacity rule, per institution
// and overridden per site, is what RegistryRules tells the engine.
func TestRegistryCapacityRule(t *testing.T) {
	reg, err := registry.Load("../../testdata/registry/guro.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rr := RegistryRules(reg, nil).(CapacityRules)
	if rr.EarlyCapacityDeletion("cw-atm-1") || rr.EarlyCapacityDeletion("unknown") {
		t.Fatal("early deletion without a rule")
	}
	yes, no := true, false
	reg.Capacity.EarlyDeletion = &yes
	if !rr.EarlyCapacityDeletion("cw-atm-1") || !rr.EarlyCapacityDeletion("unknown") {
		t.Fatal("institution rule not applied")
	}
	s, _ := reg.Site("cheonwang")
	s.Capacity = &registry.Capacity{EarlyDeletion: &no}
	if rr.EarlyCapacityDeletion("cw-atm-1") {
		t.Fatal("site override not applied")
	}
}
