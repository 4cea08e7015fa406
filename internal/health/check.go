package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/stills"
)

// StillChecker judges one decoded key frame of a camera; it returns the
// problems seen ("black", "covered", "defocused"), none for a good picture.
type StillChecker interface {
	CheckStill(ctx context.Context, camera string, f *media.Frame) ([]string, error)
}

// StillImager is a StillChecker that can also render the key frame as a
// JPEG picture to keep (FFmpegStill does).
type StillImager interface {
	StillImage(ctx context.Context, f *media.Frame) ([]byte, error)
}

// StillKeeper keeps the pictures of the check; the still store
// (stills.Store) implements it.
type StillKeeper interface {
	Put(ctx context.Context, camera string, recordedAt time.Time, jpeg []byte, findings []string) (stills.Still, error)
}

// CheckResult is the outcome of one scheduled check of one device.
type CheckResult struct {
	Device   string   `json:"device"` // camera id, or "storage:<volume>"
	Camera   string   `json:"camera,omitempty"`
	OK       bool     `json:"ok"`
	Findings []string `json:"findings,omitempty"`
	// Still is the id of the picture kept from this check (0: none).
	Still int64 `json:"still,omitempty"`
}

// CheckPurpose is the purpose recorded with every scheduled check entry.
const CheckPurpose = "정기 점검: 영상정보처리기기 정상작동 여부"

// RunCheck runs the scheduled device check now: for every camera, OK or
// its findings (no video, active alarms, and what the still-frame check
// sees), and for every volume, OK or its alarms; each result is appended
// to the ledger as a DeviceCheck entry before RunCheck returns.
func (m *Monitor) RunCheck(ctx context.Context) ([]CheckResult, error) {
	const op = "health.RunCheck"
	if m.led == nil {
		return nil, errs.E(op, errs.Invalid, "no ledger to record the check in")
	}
	snap := m.Snapshot()
	var results []CheckResult
	for i, ch := range snap.Cameras {
		r := CheckResult{Device: ch.Camera, Camera: ch.Camera}
		if !ch.Connected {
			state := i18n.T(i18n.Ko, "camera.state."+ch.Status, nil)
			f := i18n.T(i18n.Ko, "health.finding.not_recording", map[string]string{"state": state})
			if ch.LastError != "" {
				f = i18n.T(i18n.Ko, "health.finding.not_recording_error", map[string]string{"state": state, "error": ch.LastError})
			}
			r.Findings = append(r.Findings, f)
		}
		for _, k := range ch.Alarms {
			if a, ok := m.am.ActiveFor(k, ch.Camera); ok {
				r.Findings = append(r.Findings, alarmFinding(&a))
			}
		}
		if m.still != nil {
			m.mu.Lock()
			key := m.cams[i].lastKey
			m.mu.Unlock()
			switch {
			case key == nil:
				r.Findings = append(r.Findings, i18n.T(i18n.Ko, "health.finding.no_key_frame", nil))
			default:
				probs, err := m.still.CheckStill(ctx, ch.Camera, key)
				if err != nil {
					r.Findings = append(r.Findings, i18n.T(i18n.Ko, "health.finding.still_error", map[string]string{"error": err.Error()}))
				}
				for _, p := range probs {
					r.Findings = append(r.Findings, i18n.T(i18n.Ko, "health.finding.still", map[string]string{"problem": p}))
				}
				if err == nil {
					r.Still = m.keepStill(ctx, ch.Camera, key, probs)
					// The picture's problem stays on the dashboard until a
					// later check sees a good picture.
					if len(probs) > 0 {
						m.am.RaiseMsg(alarm.ImageProblem, ch.Camera, alarm.Warning,
							alarm.M("alarm.msg.image_problem", "findings", strings.Join(probs, "; ")))
					} else {
						m.am.Clear(alarm.ImageProblem, ch.Camera)
					}
				}
			}
		}
		r.OK = len(r.Findings) == 0
		results = append(results, r)
	}
	for _, vh := range snap.Volumes {
		r := CheckResult{Device: "storage:" + vh.Volume}
		if !vh.Writable {
			r.Findings = append(r.Findings, i18n.T(i18n.Ko, "health.finding.unwritable", map[string]string{"error": vh.LastError}))
		}
		for _, k := range vh.Alarms {
			if a, ok := m.am.ActiveFor(k, vh.Volume); ok && k != alarm.StorageUnwritable {
				r.Findings = append(r.Findings, alarmFinding(&a))
			}
		}
		r.OK = len(r.Findings) == 0
		results = append(results, r)
	}
	for _, r := range results {
		e := ledger.Entry{Kind: ledger.DeviceCheck, Object: r.Device, Purpose: CheckPurpose, Detail: checkDetail(r)}
		if r.Camera != "" {
			e.Cameras = []string{r.Camera}
		}
		if _, err := m.led.Append(ctx, e); err != nil {
			return results, errs.E(op, err)
		}
	}
	m.mu.Lock()
	m.checks++
	m.mu.Unlock()
	m.log.Info("device check recorded", "devices", len(results), "problems", countProblems(results))
	return results, nil
}

// keepStill renders and stores the checked key frame, when the checker
// can render and a keeper is configured; it returns the still's id (0 when
// none was kept; a failure is logged, the check goes on).
func (m *Monitor) keepStill(ctx context.Context, camera string, key *media.Frame, probs []string) int64 {
	im, ok := m.still.(StillImager)
	if !ok || m.stills == nil {
		return 0
	}
	img, err := im.StillImage(ctx, key)
	if err != nil {
		m.log.Warn("still frame not kept: rendering failed", "camera", camera, "err", err)
		return 0
	}
	st, err := m.stills.Put(ctx, camera, media.FromTime90k(key.Wall), img, probs)
	if err != nil {
		m.log.Error("still frame not kept: storing failed", "camera", camera, "err", err)
		return 0
	}
	return st.ID
}

// alarmFinding is an active alarm as a check finding, in Korean (the
// 관리대장's language): its kind's name and its message.
func alarmFinding(a *alarm.Alarm) string {
	return i18n.T(i18n.Ko, "health.finding.alarm", map[string]string{"kind": a.Kind.Name(i18n.Ko), "message": a.Text(i18n.Ko)})
}

// checkDetail is the ledger Detail of a check result: "정상" or
// "이상: finding; finding", followed by the kept still's id.
func checkDetail(r CheckResult) string {
	d := i18n.T(i18n.Ko, "health.check.ok", nil)
	if !r.OK {
		d = i18n.T(i18n.Ko, "health.check.problems", map[string]string{"findings": strings.Join(r.Findings, "; ")})
	}
	if r.Still != 0 {
		d += " (" + i18n.T(i18n.Ko, "health.check.still_kept", map[string]string{"id": fmt.Sprint(r.Still)}) + ")"
	}
	return d
}

func countProblems(rs []CheckResult) int {
	n := 0
	for _, r := range rs {
		if !r.OK {
			n++
		}
	}
	return n
}
