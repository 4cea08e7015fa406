package health

import (
	"context"
	"strings"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
)

// StillChecker judges one decoded key frame of a camera; it returns the
// problems seen ("black", "covered", "defocused"), none for a good picture.
type StillChecker interface {
	CheckStill(ctx context.Context, camera string, f *media.Frame) ([]string, error)
}

// CheckResult is the outcome of one scheduled check of one device.
type CheckResult struct {
	Device   string   `json:"device"` // camera id, or "storage:<volume>"
	Camera   string   `json:"camera,omitempty"`
	OK       bool     `json:"ok"`
	Findings []string `json:"findings,omitempty"`
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
			f := "not recording (status " + ch.Status + ")"
			if ch.LastError != "" {
				f += ": " + ch.LastError
			}
			r.Findings = append(r.Findings, f)
		}
		for _, k := range ch.Alarms {
			if a, ok := m.am.ActiveFor(k, ch.Camera); ok {
				r.Findings = append(r.Findings, string(k)+": "+a.Message)
			}
		}
		if m.still != nil {
			m.mu.Lock()
			key := m.cams[i].lastKey
			m.mu.Unlock()
			switch {
			case key == nil:
				r.Findings = append(r.Findings, "still frame: no key frame received to check")
			default:
				probs, err := m.still.CheckStill(ctx, ch.Camera, key)
				if err != nil {
					r.Findings = append(r.Findings, "still frame: "+err.Error())
				}
				for _, p := range probs {
					r.Findings = append(r.Findings, "still frame: "+p)
				}
			}
		}
		r.OK = len(r.Findings) == 0
		results = append(results, r)
	}
	for _, vh := range snap.Volumes {
		r := CheckResult{Device: "storage:" + vh.Volume}
		if !vh.Writable {
			r.Findings = append(r.Findings, "not writable: "+vh.LastError)
		}
		for _, k := range vh.Alarms {
			if a, ok := m.am.ActiveFor(k, vh.Volume); ok && k != alarm.StorageUnwritable {
				r.Findings = append(r.Findings, string(k)+": "+a.Message)
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

// checkDetail is the ledger Detail of a check result: "정상" or
// "이상: finding; finding".
func checkDetail(r CheckResult) string {
	if r.OK {
		return "정상"
	}
	return "이상: " + strings.Join(r.Findings, "; ")
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
