package retention

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/store"
)

// KeepSince is the start of the footage that retention ret still promises
// to keep at now: footage ending at or before it is due for destruction.
// It is 00:00 (in loc) of the earliest recording day D whose footage is not
// yet due by registry.Retention.Expiry; footage of every day before D is.
func KeepSince(ret registry.Retention, now time.Time, loc *time.Location) time.Time {
	due := func(d registry.Date) bool { // footage of day d is due
		return !ret.Expiry(d.Start(loc), loc).After(now)
	}
	d := registry.DateOf(now.In(loc)).AddDays(-(ret.Days + 31*ret.Months + 2))
	for !due(d) { // the estimate is always due; walk back if not
		d = d.AddDays(-1)
	}
	for due(d.AddDays(1)) {
		d = d.AddDays(1)
	}
	return d.AddDays(1).Start(loc)
}

// RunReport is what one run did.
type RunReport struct {
	At time.Time
	// Refused is why the run destroyed nothing because of the clock ("" if
	// it ran).
	Refused string
	// Receipts are the receipts written, one per camera and reason.
	Receipts []*Receipt
	// Expired and Capacity count the segments destroyed by each rule.
	Expired, Capacity int
	// DueHeld counts segments due for destruction but kept by a hold.
	DueHeld int
	// Short is how many bytes capacity deletion could not free (held).
	Short int64
	// EarlyAnnounced counts segments capacity deletion destroyed before
	// their retention ended where the policy announces it (no alarm).
	EarlyAnnounced int
}

// clockSubject is the alarm subject of a refused run.
const clockSubject = "retention-clock"

// storageSubject is the alarm subject of a volume that holds keep full.
const storageSubject = "storage"

// RunOnce applies retention, then capacity, once. A run the clock makes
// unsafe is refused (RunReport.Refused, an alarm, a log line) and returns
// no error.
func (e *Engine) RunOnce(ctx context.Context) (*RunReport, error) {
	const op = "retention.RunOnce"
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.recoverPending(ctx); err != nil {
		return nil, errs.E(op, err)
	}
	now := e.clk.Now()
	rep := &RunReport{At: now}
	cams, err := e.st.Cameras(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if rep.Refused, err = e.checkClock(ctx, now, cams); err != nil {
		return nil, errs.E(op, err)
	}
	if rep.Refused != "" {
		e.alarm(clockSubject, rep.Refused)
		return rep, nil
	}
	e.alarm(clockSubject, "")
	hs, err := e.holds.List(ctx, false)
	if err != nil {
		return nil, errs.E(op, err)
	}
	// Retention: every camera's footage ending before its KeepSince.
	var plans []plan
	keep := map[string]int64{}
	for _, c := range cams {
		ks := media.Time90k(KeepSince(e.opt.Rules.Retention(c.Camera), now, e.loc))
		keep[c.Camera] = ks
		bs, err := e.st.Briefs(ctx, c.Camera, ks, 0)
		if err != nil {
			return nil, errs.E(op, err)
		}
		p := plan{camera: c.Camera}
		for _, b := range bs {
			if heldBy(hs, b.Camera, b.Start, b.End) {
				rep.DueHeld++
				continue
			}
			p.segs = append(p.segs, b)
		}
		if len(p.segs) > 0 {
			plans = append(plans, p)
			rep.Expired += len(p.segs)
		}
	}
	if rep.DueHeld > 0 {
		e.log.Info("footage due for destruction is kept by holds", "segments", rep.DueHeld)
	}
	rs, err := e.destroy(ctx, ReasonRetention, "", "", plans)
	rep.Receipts = append(rep.Receipts, rs...)
	if err != nil {
		return rep, errs.E(op, err)
	}
	if err := e.capacity(ctx, rep, hs, keep); err != nil {
		return rep, errs.E(op, err)
	}
	// A camera cut below its promise is kept again once everything
	// capacity destroyed early would have been due anyway.
	broken, err := e.db.broken(ctx)
	if err != nil {
		return rep, errs.E(op, err)
	}
	for cam, until := range broken {
		ks, ok := keep[cam]
		if !ok {
			ks = media.Time90k(KeepSince(e.opt.Rules.Retention(cam), now, e.loc))
		}
		if ks >= until {
			if err := e.db.clearBroken(ctx, cam); err != nil {
				return rep, errs.E(op, err)
			}
			e.alarm(cam, "")
		}
	}
	if err := e.db.setLastRun(ctx, max(media.Time90k(now), e.lastRunOr(ctx, 0))); err != nil {
		return rep, errs.E(op, err)
	}
	if n := len(rep.Receipts); n > 0 {
		e.log.Info("retention run destroyed footage", "expired", rep.Expired, "capacity", rep.Capacity, "receipts", n)
	}
	return rep, nil
}

func (e *Engine) lastRunOr(ctx context.Context, def int64) int64 {
	v, ok, err := e.db.lastRun(ctx)
	if err != nil || !ok {
		return def
	}
	return v
}

// checkClock returns why the clock makes a run unsafe, or "".
func (e *Engine) checkClock(ctx context.Context, now time.Time, cams []store.CameraSummary) (string, error) {
	n := media.Time90k(now)
	var newest int64 = math.MinInt64
	for _, c := range cams {
		newest = max(newest, c.Newest)
	}
	margin := e.cfg.ClockMargin.D()
	if newest != math.MinInt64 && n < newest-int64(margin)*media.Hz/int64(time.Second) {
		return fmt.Sprintf("the clock (%s) is behind the newest recorded footage (%s) by more than %v: the clock went back or footage was stamped in the future; retention waits until the clock passes the footage",
			now.In(e.loc).Format(time.RFC3339), at(newest, e.loc).Format(time.RFC3339), margin), nil
	}
	last, ok, err := e.db.lastRun(ctx)
	if err != nil {
		return "", err
	}
	if step := e.cfg.MaxClockStep.D(); ok && now.Sub(media.FromTime90k(last)) > step {
		return fmt.Sprintf("the clock (%s) is %v past the last retention run (%s), more than %v: if the clock jumped forward, destroying now would destroy footage early; fix the clock, or accept it with `gwanje retention accept-clock` if the system was really off that long",
			now.In(e.loc).Format(time.RFC3339), now.Sub(media.FromTime90k(last)).Round(time.Second),
			at(last, e.loc).Format(time.RFC3339), step), nil
	}
	return "", nil
}

// AcceptClock records the current clock as the last run, so that the next
// run proceeds after a refusal for a forward jump. actor is logged.
func (e *Engine) AcceptClock(ctx context.Context, actor string) error {
	return AcceptClock(ctx, e.opt.Dir, e.clk.Now(), actor, e.log)
}

// capacity frees the volume when a capacity limit is exceeded: oldest
// unheld footage first, across cameras.
func (e *Engine) capacity(ctx context.Context, rep *RunReport, hs []Hold, keep map[string]int64) error {
	need, why, err := e.need(ctx)
	if err != nil {
		return err
	}
	if need <= 0 {
		e.alarm(storageSubject, "")
		return nil
	}
	e.log.Warn("storage over its limit: deleting the oldest footage", "bytes_to_free", need, "limit", why)
	var picked []store.Brief
	var freed int64
	held := 0
	for limit := 4 * e.cfg.BatchSize; ; limit *= 2 {
		bs, err := e.st.Briefs(ctx, "", math.MaxInt64, limit)
		if err != nil {
			return err
		}
		picked, freed, held = picked[:0], 0, 0
		for _, b := range bs {
			if freed >= need {
				break
			}
			if heldBy(hs, b.Camera, b.Start, b.End) {
				held++
				continue
			}
			picked = append(picked, b)
			freed += b.Bytes
		}
		if freed >= need || len(bs) < limit {
			break
		}
	}
	idx := map[string]int{}
	var plans []plan
	for _, b := range picked {
		i, ok := idx[b.Camera]
		if !ok {
			i = len(plans)
			idx[b.Camera] = i
			plans = append(plans, plan{camera: b.Camera})
		}
		plans[i].segs = append(plans[i].segs, b)
	}
	// Footage cut before its retention period ends: announced by the
	// policy's capacity rule, or a broken promise. The receipt and the 파기
	// row say which.
	for i := range plans {
		if earlyEnd(plans[i].segs, keep[plans[i].camera]) == 0 {
			continue
		}
		if e.earlyAnnounced(plans[i].camera) {
			plans[i].note = "early deletion by capacity before the retention period ended, as the policy announces"
		} else {
			plans[i].note = "deleted before the promised retention period ended: a broken promise"
		}
	}
	rs, derr := e.destroy(ctx, ReasonCapacity, "", why, plans)
	rep.Receipts = append(rep.Receipts, rs...)
	for _, r := range rs {
		rep.Capacity += len(r.Segments)
		var early int64
		for _, s := range r.Segments {
			if end := media.Time90k(s.End); end > keep[r.Camera] {
				early = max(early, end)
			}
		}
		if early == 0 {
			continue
		}
		ret := e.opt.Rules.Retention(r.Camera)
		if e.earlyAnnounced(r.Camera) {
			rep.EarlyAnnounced += len(r.Segments)
			e.log.Info("capacity deletion before the retention period ended, as the policy announces",
				"camera", r.Camera, "retention", ret.String(), "until", at(early, e.loc).Format(time.RFC3339))
			continue
		}
		if err := e.db.setBroken(ctx, r.Camera, early); err != nil {
			return err
		}
		oldest := "none"
		if cs, err := e.st.Cameras(ctx); err == nil {
			for _, c := range cs {
				if c.Camera == r.Camera {
					oldest = at(c.Oldest, e.loc).Format(time.RFC3339)
				}
			}
		}
		e.alarm(r.Camera, fmt.Sprintf("capacity deletion destroyed footage before its retention of %s (%s) ended: the policy promises footage since %s, the oldest footage held now starts %s",
			ret.Korean(), ret, at(keep[r.Camera], e.loc).Format(time.RFC3339), oldest))
	}
	if derr != nil {
		return derr
	}
	if freed < need {
		rep.Short = need - freed
		e.alarm(storageSubject, fmt.Sprintf("storage over its limit (%s) by %d bytes that cannot be freed: the remaining footage is under holds (%d segments held); recording continues until the disk is full",
			why, need-freed, held))
	} else {
		e.alarm(storageSubject, "")
	}
	return nil
}

// earlyEnd is the latest end of the segments that is after keep (footage
// the retention period still promised), or 0 when there is none.
func earlyEnd(segs []store.Brief, keep int64) int64 {
	var early int64
	for _, b := range segs {
		if b.End > keep {
			early = max(early, b.End)
		}
	}
	return early
}

// need returns how many bytes capacity deletion must free, and which limit
// asks for it.
func (e *Engine) need(ctx context.Context) (int64, string, error) {
	c := e.cfg.Capacity
	head := c.HeadroomPercent / 100
	var need int64
	var why string
	if c.Quota > 0 {
		cs, err := e.st.Cameras(ctx)
		if err != nil {
			return 0, "", err
		}
		var used int64
		for _, x := range cs {
			used += x.Bytes
		}
		if used > int64(c.Quota) {
			need, why = used-int64(float64(c.Quota)*(1-head)), fmt.Sprintf("quota %s, footage %d bytes", c.Quota, used)
		}
	}
	if c.MaxUsedPercent > 0 || c.MinFree > 0 {
		total, free, err := e.opt.StatFS(e.opt.Dir)
		if err != nil {
			return 0, "", errs.E("retention.need", errs.IO, err)
		}
		if c.MaxUsedPercent > 0 {
			limit := float64(total) * c.MaxUsedPercent / 100
			if used := total - free; float64(used) > limit {
				if n := used - int64(limit*(1-head)); n > need {
					need, why = n, fmt.Sprintf("max %.1f%% of the file system used, %d of %d bytes used", c.MaxUsedPercent, used, total)
				}
			}
		}
		if c.MinFree > 0 && free < int64(c.MinFree) {
			if n := int64(float64(c.MinFree)*(1+head)) - free; n > need {
				need, why = n, fmt.Sprintf("min free %s, %d bytes free", c.MinFree, free)
			}
		}
	}
	return need, why, nil
}
