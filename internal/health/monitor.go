// Package health keeps the promise that the cameras' normal operation is
// checked (영상정보처리기기의 정상작동 여부 점검): a Monitor watches every
// camera (connected, frame and key frame rates against the expected rate,
// bitrate, clock drift, a frozen picture, recording gaps) and every storage
// volume (writable, free space, write errors, time to full), raises and
// clears alarms through internal/alarm within seconds, runs the scheduled
// device checks that are written to the 관리대장 (ledger kind DeviceCheck),
// and builds the monthly report. docs/design/health.md describes it.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// Thresholds tune detection. Production defaults (DefaultThresholds) raise
// every alarm well within 30 seconds; tests shorten them.
type Thresholds struct {
	Tick time.Duration // how often signals are evaluated (1 s)
	// NoVideo: no frame for this long is an outage (5 s; below ingest's
	// 10 s read timeout, so a stalled connection is seen while still open).
	NoVideo time.Duration
	// RateWindow is the window of frame, bitrate and write-rate
	// measurements (10 s).
	RateWindow time.Duration
	// LowFPSFraction: measured fps below this fraction of the expected
	// fps over a full RateWindow raises LowFrameRate (0.5).
	LowFPSFraction float64
	// FrozenWindow and FrozenKeys: at least FrozenKeys key frames in
	// FrozenWindow, all identical, is a frozen picture (10 s, 3).
	FrozenWindow time.Duration
	FrozenKeys   int
	// GapScan is how often the store's segments are scanned for gaps (10 s),
	// GapLookback how far back each scan looks (10 min), and MinGap the
	// shortest hole between segments reported as a gap (1 s).
	GapScan, GapLookback, MinGap time.Duration
	// Storage: free below MinFreeFraction of the volume or below
	// MinFreeBytes, or full within MinTimeToFull at the rate free space
	// fell over FillWindow, raises StorageLow (5 %, 1 GiB, 24 h, 5 min);
	// it clears when each is StorageClearMargin beyond its threshold (20 %:
	// 6 %, 1.2 GiB, 28.8 h), so a value moving around one alarms once.
	MinFreeFraction    float64
	MinFreeBytes       uint64
	MinTimeToFull      time.Duration
	FillWindow         time.Duration
	StorageClearMargin float64
	// WriteErrorClear: a write-error alarm clears after this long without
	// a new error (1 min).
	WriteErrorClear time.Duration
}

// DefaultThresholds returns the production thresholds.
func DefaultThresholds() Thresholds {
	return Thresholds{
		Tick: time.Second, NoVideo: 5 * time.Second, RateWindow: 10 * time.Second, LowFPSFraction: 0.5,
		FrozenWindow: 10 * time.Second, FrozenKeys: 3,
		GapScan: 10 * time.Second, GapLookback: 10 * time.Minute, MinGap: time.Second,
		MinFreeFraction: 0.05, MinFreeBytes: 1 << 30, MinTimeToFull: 24 * time.Hour,
		FillWindow: 5 * time.Minute, StorageClearMargin: 0.2,
		WriteErrorClear: time.Minute,
	}
}

// Segments is what the Monitor needs from the store: the segments of a
// camera overlapping [start, end) in 90 kHz wall-clock units, in start
// order. *store.Store implements it.
type Segments interface {
	Segments(ctx context.Context, camera string, start, end int64) ([]store.Segment, error)
}

// Options configure a Monitor.
type Options struct {
	Clock      clock.Clock
	Logger     *slog.Logger
	Alarms     *alarm.Manager // required
	Cameras    []Camera
	Volumes    []Volume
	Segments   Segments        // nil: no gap detection
	Ledger     ledger.Appender // nil: scheduled checks are not run
	Thresholds Thresholds      // zero fields take DefaultThresholds
	// CheckInterval is the period of the scheduled device check (점검),
	// e.g. 24 h; zero disables it. The first check runs one interval
	// after Run starts.
	CheckInterval time.Duration
	// Still, if set, decodes and judges one key frame per camera during
	// the scheduled check (see FFmpegStill).
	Still StillChecker
	// Stills, if set with a Still that is also a StillImager, keeps the
	// checked picture encrypted (a stills.Store).
	Stills StillKeeper
}

// Gap is a period in which a camera recorded nothing.
type Gap struct {
	Camera string    `json:"camera"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Cause  string    `json:"cause"`
}

// Snapshot is the health of everything, for the dashboard and metrics.
type Snapshot struct {
	At      time.Time      `json:"at"`
	Cameras []CameraHealth `json:"cameras"`
	Volumes []VolumeHealth `json:"volumes"`
	Gaps    []Gap          `json:"recent_gaps"` // newest last, at most 100
	Checks  uint64         `json:"checks"`      // scheduled checks run
}

// Monitor watches cameras and volumes. Create it with NewMonitor, then
// call Run once.
type Monitor struct {
	clk    clock.Clock
	log    *slog.Logger
	am     *alarm.Manager
	segs   Segments
	led    ledger.Appender
	th     Thresholds
	every  time.Duration
	still  StillChecker
	stills StillKeeper

	mu       sync.Mutex
	cams     []*tracker
	vols     []*volTracker
	gaps     []Gap
	seenGap  map[string]time.Time // camera/start of gaps already reported → gap end
	lastScan time.Time
	checks   uint64
}

// NewMonitor validates opt and returns a Monitor.
func NewMonitor(opt Options) (*Monitor, error) {
	const op = "health.NewMonitor"
	if opt.Alarms == nil {
		return nil, errs.E(op, errs.Invalid, "no alarm manager")
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	th, d := opt.Thresholds, DefaultThresholds()
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur(&th.Tick, d.Tick)
	setDur(&th.NoVideo, d.NoVideo)
	setDur(&th.RateWindow, d.RateWindow)
	setDur(&th.FrozenWindow, d.FrozenWindow)
	setDur(&th.GapScan, d.GapScan)
	setDur(&th.GapLookback, d.GapLookback)
	setDur(&th.MinGap, d.MinGap)
	setDur(&th.MinTimeToFull, d.MinTimeToFull)
	setDur(&th.FillWindow, d.FillWindow)
	if th.StorageClearMargin <= 0 {
		th.StorageClearMargin = d.StorageClearMargin
	}
	setDur(&th.WriteErrorClear, d.WriteErrorClear)
	if th.LowFPSFraction <= 0 || th.LowFPSFraction >= 1 {
		th.LowFPSFraction = d.LowFPSFraction
	}
	if th.FrozenKeys < 2 {
		th.FrozenKeys = d.FrozenKeys
	}
	if th.MinFreeFraction <= 0 {
		th.MinFreeFraction = d.MinFreeFraction
	}
	if th.MinFreeBytes == 0 {
		th.MinFreeBytes = d.MinFreeBytes
	}
	m := &Monitor{clk: opt.Clock, log: opt.Logger, am: opt.Alarms, segs: opt.Segments, led: opt.Ledger,
		th: th, every: opt.CheckInterval, still: opt.Still, stills: opt.Stills, seenGap: map[string]time.Time{}}
	now := m.clk.Now()
	seen := map[string]bool{}
	for _, c := range opt.Cameras {
		if c.ID == "" || c.State == nil {
			return nil, errs.Errorf(op, errs.Invalid, "camera %q: needs an id and a State function", c.ID)
		}
		if seen["c/"+c.ID] {
			return nil, errs.Errorf(op, errs.Invalid, "camera %q listed twice", c.ID)
		}
		seen["c/"+c.ID] = true
		t := newTracker(c, now)
		// An outage alarm still active from before a restart is this
		// tracker's outage, already NoVideo long: it clears when frames
		// flow, and is not raised again meanwhile.
		for _, k := range []alarm.Kind{alarm.CameraDown, alarm.CameraStalled} {
			if _, ok := opt.Alarms.ActiveFor(k, c.ID); ok && t.outage == "" {
				t.outage, t.lastAdv = k, now.Add(-th.NoVideo)
			}
		}
		m.cams = append(m.cams, t)
	}
	for _, v := range opt.Volumes {
		if v.Name == "" || v.Dir == "" {
			return nil, errs.Errorf(op, errs.Invalid, "volume %q: needs a name and a directory", v.Name)
		}
		if seen["v/"+v.Name] {
			return nil, errs.Errorf(op, errs.Invalid, "volume %q listed twice", v.Name)
		}
		seen["v/"+v.Name] = true
		vt := &volTracker{v: v}
		if _, ok := opt.Alarms.ActiveFor(alarm.StorageWriteErrors, v.Name); ok {
			vt.errsAt = now // from before a restart: clears after WriteErrorClear without a new error
		}
		m.vols = append(m.vols, vt)
	}
	m.lastScan = now
	return m, nil
}

// Run watches until ctx is done: it evaluates every Tick, scans for gaps
// every GapScan and runs the scheduled check every CheckInterval.
func (m *Monitor) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range m.cams {
		if t.cam.Subscribe == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.watchFrames(ctx, t)
		}()
	}
	defer wg.Wait()
	nextCheck := time.Time{}
	if m.every > 0 {
		nextCheck = m.clk.Now().Add(m.every)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.clk.After(m.th.Tick):
		}
		m.Step(ctx)
		if now := m.clk.Now(); !nextCheck.IsZero() && !now.Before(nextCheck) {
			nextCheck = now.Add(m.every)
			if _, err := m.RunCheck(ctx); err != nil {
				m.log.Error("scheduled device check failed", "err", err)
			}
		}
	}
}

// watchFrames feeds one camera's live frames to its tracker.
func (m *Monitor) watchFrames(ctx context.Context, t *tracker) {
	for ctx.Err() == nil {
		c, stop := t.cam.Subscribe()
		func() {
			defer stop()
			for {
				select {
				case <-ctx.Done():
					return
				case lf, ok := <-c:
					if !ok {
						return
					}
					now := m.clk.Now()
					m.mu.Lock()
					t.frame(lf, now, m.th)
					m.mu.Unlock()
				}
			}
		}()
		if ctx.Err() == nil {
			// The supervisor closed the feed (it stopped); do not spin.
			select {
			case <-ctx.Done():
			case <-m.clk.After(m.th.Tick):
			}
		}
	}
}

// Step evaluates every camera and volume once, and scans for gaps when a
// GapScan has passed. Run calls it every Tick; tests call it directly.
func (m *Monitor) Step(ctx context.Context) {
	now := m.clk.Now()
	states := make([]ingest.State, len(m.cams))
	for i, t := range m.cams {
		states[i] = t.cam.State() // outside mu: it takes the supervisor's locks
	}
	m.mu.Lock()
	for i, t := range m.cams {
		t.evaluate(states[i], now, m.th, m.am)
	}
	m.mu.Unlock()
	for _, v := range m.vols {
		// Probes do I/O: outside mu; only Step touches a volTracker.
		h := v.evaluate(now, m.th, m.am)
		m.mu.Lock()
		v.h = h
		m.mu.Unlock()
	}
	if m.segs != nil && now.Sub(m.lastScan) >= m.th.GapScan {
		m.lastScan = now
		if err := m.scanGaps(ctx, now); err != nil {
			m.log.Error("gap scan failed", "err", err)
		}
	}
}

// scanGaps looks for holes between consecutive segments of each camera in
// the last GapLookback and reports each once, as a Gap alarm event.
func (m *Monitor) scanGaps(ctx context.Context, now time.Time) error {
	from := media.Time90k(now.Add(-m.th.GapLookback))
	to := media.Time90k(now)
	for _, t := range m.cams {
		segs, err := m.segs.Segments(ctx, t.cam.ID, from, to)
		if err != nil {
			return errs.E("health.scanGaps", err)
		}
		m.mu.Lock()
		c := t.cause
		m.mu.Unlock()
		for _, g := range FindGaps(t.cam.ID, segs, m.th.MinGap) {
			k := fmt.Sprintf("%s/%d", g.Camera, g.Start.UnixNano())
			m.mu.Lock()
			_, seen := m.seenGap[k]
			m.seenGap[k] = g.End
			m.mu.Unlock()
			if seen {
				continue
			}
			// The alarm Manager knows every gap raised before, also
			// before a restart (its store keeps each event's identity):
			// a gap found again is listed, not raised again.
			a, isNew := m.am.Event(alarm.Gap, g.Camera, alarm.Warning, c.gapMsg(g.End.Sub(g.Start)), g.Start, g.End)
			g.Cause = c.String()
			if !isNew { // put down to what it was when first raised
				g.Cause = a.Param("cause", i18n.En)
				if e := a.Param("error", i18n.En); e != "" {
					g.Cause += ": " + e
				}
			}
			m.mu.Lock()
			m.gaps = append(m.gaps, g)
			if len(m.gaps) > 100 {
				m.gaps = m.gaps[len(m.gaps)-100:]
			}
			m.mu.Unlock()
		}
	}
	// Forget gaps that ended before the lookback window: no scan can find
	// them again.
	m.mu.Lock()
	for k, end := range m.seenGap {
		if end.Before(now.Add(-m.th.GapLookback)) {
			delete(m.seenGap, k)
		}
	}
	m.mu.Unlock()
	return nil
}

// FindGaps returns the holes of at least min between consecutive
// segments of one camera (segments in start order, as the store returns
// them). The cause is left empty.
func FindGaps(camera string, segs []store.Segment, min time.Duration) []Gap {
	segs = slices.Clone(segs)
	slices.SortFunc(segs, func(a, b store.Segment) int { return int(a.Start - b.Start) })
	var out []Gap
	min90k := int64(min / time.Millisecond * media.Hz / 1000)
	if len(segs) == 0 {
		return nil
	}
	end := segs[0].End
	for _, sg := range segs[1:] {
		if sg.Start-end >= min90k {
			out = append(out, Gap{Camera: camera, Start: media.FromTime90k(end), End: media.FromTime90k(sg.Start)})
		}
		end = max(end, sg.End)
	}
	return out
}

// Snapshot returns the current signals.
func (m *Monitor) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{At: m.clk.Now(), Gaps: slices.Clone(m.gaps), Checks: m.checks}
	for _, t := range m.cams {
		h := t.h
		if h.Camera == "" {
			h = CameraHealth{Camera: t.cam.ID, Status: "unknown"}
		}
		h.Alarms = slices.Clone(h.Alarms)
		s.Cameras = append(s.Cameras, h)
	}
	for _, v := range m.vols {
		h := v.h
		if h.Volume == "" {
			h = VolumeHealth{Volume: v.v.Name, Dir: v.v.Dir}
		}
		h.Alarms = slices.Clone(h.Alarms)
		s.Volumes = append(s.Volumes, h)
	}
	return s
}

// Handler serves the Snapshot as JSON (GET). It reveals camera names:
// mount it behind authentication.
func (m *Monitor) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(m.Snapshot())
	})
}
