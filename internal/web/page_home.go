package web

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/store"
)

// The home page: what the person on duty must see first. The state of
// every camera they may know of, today's recording gaps, storage use and
// the oldest footage held against the promised retention, the alarms that
// need attention and the holds. Server-rendered, so it is one request
// however many cameras there are.
func init() {
	AddPage(&Page{Name: "home", Title: "ui.home.title", Menu: 10, Scripts: []string{"home.js"}, Data: loadHome})
}

type homeCamera struct {
	CameraInfo
	State     string // catalogue key of the state
	StateName string // state for the CSS class
	Since     time.Time
	Codec     string
	Oldest    time.Time
	Bytes     int64
	Promised  string // the promised retention ("30일"), "" when unknown
	Short     bool   // the oldest footage is younger than the promise covers
	Broken    bool   // capacity deletion cut below the promise
	Gaps      []homeGap
	GapTotal  time.Duration
}

type homeGap struct{ From, To time.Time }

type homeAlarm struct {
	alarm.Alarm
	KindKey string // catalogue key of the kind
	Subject string // the camera's name, or the volume
}

type homePage struct {
	Cameras   []homeCamera
	Alarms    []homeAlarm
	Holds     []retention.Hold
	HoldsSeen bool // the user may read holds
	Storage   *retention.Status
	DayStart  time.Time
	Down      int
	Names     map[string]string // camera id → name, for holds
	// Provisions are the open provisions the user may know of, and
	// ToApprove how many of them wait for this user's approval.
	Provisions     []provision.Provision
	ProvisionsSeen bool
	ToApprove      int
	// Requests are the data-subject requests due soon or overdue that the
	// reader handles (page_requests.go); RequestsSeen: the reader handles some.
	Requests     []reqRow
	RequestsSeen bool
}

// gapMin is the shortest interruption the home page lists as a gap.
const gapMin = 2 * time.Second

func loadHome(s *Server, r *http.Request, pc *PageContext) (any, error) {
	ctx := r.Context()
	now := s.clk.Now()
	y, m, d := now.In(pc.Zone).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, pc.Zone)
	out := &homePage{DayStart: day, Names: map[string]string{}}
	vis := s.visibility(r)

	var st *retention.Status
	ret := map[string]retention.CameraStatus{}
	if s.opt.Retention != nil {
		var err error
		if st, err = s.opt.Retention.Status(ctx); err == nil {
			for _, c := range st.Cameras {
				ret[c.Camera] = c
			}
			out.Storage = st
		} else {
			s.log.Warn("home: retention status", "err", err)
		}
	}
	var sums map[string][2]time.Time
	if s.opt.Summaries != nil {
		sums, _ = s.opt.Summaries(ctx)
	}
	for _, c := range s.opt.Cameras.List() {
		if !vis.sees(c.ID) {
			continue
		}
		out.Names[c.ID] = c.Name
		hc := homeCamera{CameraInfo: c, State: "ui.state.not_recording", StateName: "not_recording"}
		if ing, ok := s.opt.Cameras.State(c.ID); ok {
			hc.StateName = ing.Status.String()
			hc.State = "ui.state." + hc.StateName
			hc.Since = ing.Since
		}
		if hc.StateName != "recording" {
			out.Down++
		}
		if rs, ok := ret[c.ID]; ok {
			hc.Oldest, hc.Bytes, hc.Promised, hc.Broken = rs.Oldest, rs.Bytes, rs.PromisedKorean, rs.Broken
			hc.Short = !rs.Oldest.IsZero() && rs.Oldest.After(rs.KeepSince)
		} else if sum, ok := sums[c.ID]; ok {
			hc.Oldest = sum[0]
		}
		cov, err := s.coverage(ctx, c.ID, day, now)
		if err == nil {
			if cov.Segments > 0 {
				hc.Codec = cov.Last.Codec.String()
			}
			hc.Gaps = gapsOf(cov, day, now, hc.Oldest)
			for _, g := range hc.Gaps {
				hc.GapTotal += g.To.Sub(g.From)
			}
		}
		out.Cameras = append(out.Cameras, hc)
	}
	sort.SliceStable(out.Cameras, func(i, k int) bool {
		a, b := out.Cameras[i], out.Cameras[k]
		if (a.StateName == "recording") != (b.StateName == "recording") {
			return b.StateName == "recording" // trouble first
		}
		return a.ID < b.ID
	})
	if s.opt.Alarms != nil {
		for _, a := range s.opt.Alarms.List(true) {
			cam, isCam, ok := vis.alarm(a)
			if !ok {
				continue
			}
			ha := homeAlarm{Alarm: a, KindKey: "ui.alarm." + string(a.Kind), Subject: a.Subject}
			if isCam {
				ha.Subject = cam.Name
			}
			out.Alarms = append(out.Alarms, ha)
		}
	}
	if s.opt.Retention != nil && s.opt.Guard.Authorize(r, pc.User, PermReadLedger, "") == nil {
		out.HoldsSeen = true
		if hs, err := s.opt.Retention.Holds(ctx, false); err == nil {
			for _, h := range hs {
				for _, c := range h.Cameras {
					if vis.sees(c) {
						out.Holds = append(out.Holds, h)
						break
					}
				}
			}
		}
	}
	if s.opt.Provisions != nil && s.opt.Guard.Authorize(r, pc.User, PermExport, "") == nil {
		if ap, err := nativeOf(pc.User); err == nil {
			if xs, err := s.opt.Provisions.List(ctx, ap, false); err == nil {
				out.Provisions, out.ProvisionsSeen = xs, true
				for i := range xs {
					if s.opt.Provisions.MayApprove(ap, &xs[i]) {
						out.ToApprove++
					}
				}
			}
		}
	}
	out.Requests, out.RequestsSeen = s.homeRequests(r, pc)
	return out, nil
}

// coverer is a footage source that summarises a camera's recording itself
// (playback.StoreSource: in SQLite, so a day of 240 cameras does not cross
// into Go as 260,000 segments).
type coverer interface {
	Coverage(ctx context.Context, camera string, start, end, minGap int64) (store.Coverage, error)
}

// coverage summarises camera's recording over [from, to), keeping the
// gaps the home page lists.
func (s *Server) coverage(ctx context.Context, camera string, from, to time.Time) (store.Coverage, error) {
	// One tick less: a gap of exactly gapMin in 90 kHz ticks may be a
	// nanosecond short of it as a time.Time; gapsOf decides.
	minGap := int64(gapMin/time.Second)*media.Hz - 1
	if c, ok := s.opt.Footage.(coverer); ok {
		return c.Coverage(ctx, camera, media.Time90k(from), media.Time90k(to), minGap)
	}
	segs, err := s.opt.Footage.Segments(ctx, camera, media.Time90k(from), media.Time90k(to))
	if err != nil {
		return store.Coverage{}, err
	}
	return store.CoverageOf(segs, minGap), nil
}

// gapsOf lists the spans of [day, now) between recorded runs: between two
// segments that do not touch, and after the last one when recording has
// stopped. Time before the first segment of the day is not a gap when the
// camera recorded nothing earlier either; it is listed as one otherwise.
func gapsOf(c store.Coverage, day, now, oldest time.Time) []homeGap {
	if c.Segments == 0 {
		return nil
	}
	var gaps []homeGap
	add := func(a, b time.Time) {
		if b.Sub(a) >= gapMin {
			gaps = append(gaps, homeGap{From: a, To: b})
		}
	}
	if st := media.FromTime90k(c.First.Start); st.After(day) && !oldest.IsZero() && oldest.Before(day) {
		add(day, st)
	}
	for _, g := range c.Gaps {
		add(media.FromTime90k(g.Start), media.FromTime90k(g.End))
	}
	if last := media.FromTime90k(c.Last.End); now.Sub(last) > 2*time.Minute {
		add(last, now)
	}
	return gaps
}
