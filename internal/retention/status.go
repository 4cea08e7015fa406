package retention

import (
	"context"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// CameraStatus is one camera's retention: what the policy promises beside
// what is actually held.
type CameraStatus struct {
	Camera string `json:"camera"`
	Site   string `json:"site,omitempty"`
	// Promised is the published retention period ("60d"); PromisedKorean
	// its wording ("60일").
	Promised       string `json:"promised"`
	PromisedKorean string `json:"promised_korean"`
	// KeepSince is the start of the footage the promise covers now.
	KeepSince time.Time `json:"keep_since"`
	// Oldest and Newest bound the footage held.
	Oldest   time.Time `json:"oldest"`
	Newest   time.Time `json:"newest"`
	Bytes    int64     `json:"bytes"`
	Segments int       `json:"segments"`
	// DueHeld counts segments past their retention kept by a hold.
	DueHeld int `json:"due_held"`
	// Broken is set while capacity deletion has cut the camera below its
	// promise; BrokenUntil is the end of the footage destroyed early.
	Broken      bool      `json:"broken"`
	BrokenUntil time.Time `json:"broken_until,omitzero"`
}

// Status is the retention report for the dashboard and the HTTP API.
type Status struct {
	At      time.Time      `json:"at"`
	Cameras []CameraStatus `json:"cameras"`
	// Bytes is the footage stored; Quota the configured quota (0: none).
	Bytes int64 `json:"bytes"`
	Quota int64 `json:"quota"`
	// FSTotal and FSFree describe the data directory's file system.
	FSTotal int64 `json:"fs_total"`
	FSFree  int64 `json:"fs_free"`
	// Holds is the number of active holds.
	Holds int `json:"holds"`
	// LastRun is the clock of the last run that was not refused.
	LastRun time.Time `json:"last_run,omitzero"`
	// ClockProblem is why the next run would be refused ("" if it would run).
	ClockProblem string `json:"clock_problem,omitempty"`
}

// Status reports, for every camera with footage, the promised retention
// beside the oldest footage actually held, its bytes and the segments due
// but held.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	const op = "retention.Status"
	now := e.clk.Now()
	cams, err := e.st.Cameras(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	hs, err := e.holds.List(ctx, false)
	if err != nil {
		return nil, errs.E(op, err)
	}
	broken, err := e.db.broken(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	st := &Status{At: now, Quota: int64(e.cfg.Capacity.Quota), Holds: len(hs)}
	if last, ok, err := e.db.lastRun(ctx); err != nil {
		return nil, errs.E(op, err)
	} else if ok {
		st.LastRun = at(last, e.loc)
	}
	if st.ClockProblem, err = e.checkClock(ctx, now, cams); err != nil {
		return nil, errs.E(op, err)
	}
	if total, free, err := e.opt.StatFS(e.opt.Dir); err == nil {
		st.FSTotal, st.FSFree = total, free
	}
	for _, c := range cams {
		ret := e.opt.Rules.Retention(c.Camera)
		ks := KeepSince(ret, now, e.loc)
		cs := CameraStatus{Camera: c.Camera, Site: e.opt.Rules.Site(c.Camera), Promised: ret.String(),
			PromisedKorean: ret.Korean(), KeepSince: ks, Oldest: at(c.Oldest, e.loc), Newest: at(c.Newest, e.loc),
			Bytes: c.Bytes, Segments: c.Segments}
		if len(hs) > 0 {
			bs, err := e.st.Briefs(ctx, c.Camera, media.Time90k(ks), 0)
			if err != nil {
				return nil, errs.E(op, err)
			}
			for _, b := range bs {
				if heldBy(hs, b.Camera, b.Start, b.End) {
					cs.DueHeld++
				}
			}
		}
		if u, ok := broken[c.Camera]; ok {
			cs.Broken, cs.BrokenUntil = true, at(u, e.loc)
		}
		st.Bytes += c.Bytes
		st.Cameras = append(st.Cameras, cs)
	}
	return st, nil
}
