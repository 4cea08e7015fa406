package health

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
)

// Volume is a storage volume the Monitor watches: the data directory.
type Volume struct {
	Name string // label in metrics and alarms ("data")
	Dir  string
	// Statfs reports the volume's free and total bytes; nil means
	// statfs(2) of Dir. Tests give a quota.
	Statfs func(dir string) (free, total uint64, err error)
	// Probe writes, fsyncs and removes a small file in Dir; nil means
	// WriteProbe. Tests inject failures.
	Probe func(dir string) error
	// WriteErrors returns the running count of failed segment writes
	// (the sum of ingest SinkErrors for cameras on this volume); nil: none.
	WriteErrors func() uint64
}

// VolumeHealth is the signals of one storage volume.
type VolumeHealth struct {
	Volume      string        `json:"volume"`
	Dir         string        `json:"dir"`
	Writable    bool          `json:"writable"`
	FreeBytes   uint64        `json:"free_bytes"`
	TotalBytes  uint64        `json:"total_bytes"`
	WriteErrors uint64        `json:"write_errors"`
	WriteRate   float64       `json:"write_rate_bps"`       // bytes/s consumed, over RateWindow
	TimeToFull  time.Duration `json:"time_to_full_ns"`      // 0 when not filling
	LastError   string        `json:"last_error,omitempty"` // of the probe or statfs
	Alarms      []alarm.Kind  `json:"alarms,omitempty"`
	Probed      time.Time     `json:"probed,omitzero"`
}

// Statfs returns the free (available to unprivileged users) and total
// bytes of the file system holding dir.
func Statfs(dir string) (free, total uint64, err error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return 0, 0, err
	}
	return s.Bavail * uint64(s.Bsize), s.Blocks * uint64(s.Bsize), nil
}

// WriteProbe creates, writes, fsyncs and removes a small file in dir: the
// cheapest proof that the volume takes writes now (a file system remounted
// read-only, a full disk or a dead device fail it).
func WriteProbe(dir string) error {
	p := filepath.Join(dir, ".gwanje-probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(make([]byte, 4096))
	serr := f.Sync()
	cerr := f.Close()
	rerr := os.Remove(p)
	for _, e := range []error{werr, serr, cerr, rerr} {
		if e != nil {
			return e
		}
	}
	return nil
}

type freeSample struct {
	at   time.Time
	free uint64
}

type volTracker struct {
	v        Volume
	samples  []freeSample
	lastErrs uint64
	errsAt   time.Time // when write errors last increased
	h        VolumeHealth
}

// evaluate probes the volume, raises or clears its alarms and returns its
// signals. Only Step's goroutine calls it.
func (t *volTracker) evaluate(now time.Time, th Thresholds, am *alarm.Manager) VolumeHealth {
	v := t.v
	h := &VolumeHealth{Volume: v.Name, Dir: v.Dir, Probed: now}
	statfs, probe := v.Statfs, v.Probe
	if statfs == nil {
		statfs = Statfs
	}
	if probe == nil {
		probe = WriteProbe
	}

	if err := probe(v.Dir); err != nil {
		h.LastError = "write probe: " + err.Error()
		am.RaiseMsg(alarm.StorageUnwritable, v.Name, alarm.Critical,
			alarm.M("alarm.msg.unwritable", "dir", v.Dir, "error", err.Error()))
	} else {
		h.Writable = true
		am.Clear(alarm.StorageUnwritable, v.Name)
	}

	free, total, err := statfs(v.Dir)
	if err != nil {
		h.LastError = "statfs: " + err.Error()
	} else {
		h.FreeBytes, h.TotalBytes = free, total
		t.samples = append(t.samples, freeSample{at: now, free: free})
		cut := now.Add(-max(th.RateWindow, th.FillWindow))
		i := 0
		for i < len(t.samples)-1 && !t.samples[i+1].at.After(cut) {
			i++
		}
		t.samples = t.samples[i:]
		h.WriteRate = fallRate(t.samples, now.Add(-th.RateWindow), now)
		// Time to full from the trend of free space over FillWindow (a
		// least-squares fit): a burst of writes by another program, soon
		// deleted, barely moves it.
		if first := t.samples[0]; now.Sub(first.at) >= th.RateWindow {
			if r := fillRate(t.samples, now.Add(-th.FillWindow)); r > 0 {
				h.TimeToFull = time.Duration(float64(free) / r * float64(time.Second))
			}
		}
		t.storageLow(h, th, am)
	}

	if v.WriteErrors != nil {
		n := v.WriteErrors()
		h.WriteErrors = n
		if n > t.lastErrs {
			t.errsAt = now
			am.RaiseMsg(alarm.StorageWriteErrors, v.Name, alarm.Critical, alarm.M("alarm.msg.write_errors", "n", fmt.Sprint(n)))
		} else if !t.errsAt.IsZero() && now.Sub(t.errsAt) >= th.WriteErrorClear {
			am.Clear(alarm.StorageWriteErrors, v.Name)
			t.errsAt = time.Time{}
		}
		t.lastErrs = n
	}
	for _, k := range []alarm.Kind{alarm.StorageUnwritable, alarm.StorageLow, alarm.StorageWriteErrors} {
		if _, ok := am.ActiveFor(k, v.Name); ok {
			h.Alarms = append(h.Alarms, k)
		}
	}
	return *h
}

// fallRate is how fast free space fell (bytes/s) from the first sample at
// or after from to the last sample, at now; 0 when it did not fall.
func fallRate(ss []freeSample, from, now time.Time) float64 {
	i := 0
	for i < len(ss)-1 && ss[i].at.Before(from) {
		i++
	}
	first, last := ss[i], ss[len(ss)-1]
	span := now.Sub(first.at).Seconds()
	if span <= 0 || first.free <= last.free {
		return 0
	}
	return float64(first.free-last.free) / span
}

// fillRate is the trend of the fall of free space (bytes/s) over the
// samples at or after from: minus the slope of a least-squares line
// through them; 0 when free space is not falling.
func fillRate(ss []freeSample, from time.Time) float64 {
	i := 0
	for i < len(ss)-1 && ss[i].at.Before(from) {
		i++
	}
	ss = ss[i:]
	if len(ss) < 2 {
		return 0
	}
	t0 := ss[0].at
	var mx, my float64
	for _, s := range ss {
		mx += s.at.Sub(t0).Seconds()
		my += float64(s.free)
	}
	n := float64(len(ss))
	mx, my = mx/n, my/n
	var cov, vx float64
	for _, s := range ss {
		dx := s.at.Sub(t0).Seconds() - mx
		cov += dx * (float64(s.free) - my)
		vx += dx * dx
	}
	if vx == 0 || cov >= 0 {
		return 0
	}
	return -cov / vx
}

// storageLow raises or clears the volume's StorageLow alarm, with
// hysteresis: raised when free space is below MinFreeFraction of the volume
// or below MinFreeBytes, or the volume is full within MinTimeToFull;
// cleared only when every one of these is at least StorageClearMargin
// (20 %) beyond its threshold: free ≥ 6 % and ≥ 1.2 GiB, and not filling or
// full in ≥ 28.8 h by default. A value moving around a threshold (other
// programs writing and deleting) raises one alarm, not one per crossing.
func (t *volTracker) storageLow(h *VolumeHealth, th Thresholds, am *alarm.Manager) {
	name := t.v.Name
	free, total := h.FreeBytes, h.TotalBytes
	frac := 1.0
	if total > 0 {
		frac = float64(free) / float64(total)
	}
	m := 1 + th.StorageClearMargin
	var why *alarm.Msg
	switch {
	case total > 0 && frac < th.MinFreeFraction:
		msg := alarm.M("alarm.msg.free_fraction", "percent", pct(frac), "free", formatBytes(float64(free)),
			"total", formatBytes(float64(total)), "threshold", pct(th.MinFreeFraction))
		why = &msg
	case free < th.MinFreeBytes:
		msg := alarm.M("alarm.msg.free_bytes", "free", formatBytes(float64(free)), "threshold", formatBytes(float64(th.MinFreeBytes)))
		why = &msg
	case h.TimeToFull > 0 && h.TimeToFull < th.MinTimeToFull:
		msg := alarm.M("alarm.msg.time_to_full", "duration", h.TimeToFull.Round(time.Second).String(),
			"rate", formatBytes(h.WriteRate), "threshold", th.MinTimeToFull.String())
		why = &msg
	}
	if why != nil {
		am.RaiseMsg(alarm.StorageLow, name, alarm.Critical, *why)
		return
	}
	if _, active := am.ActiveFor(alarm.StorageLow, name); !active {
		return
	}
	clearTTF := time.Duration(float64(th.MinTimeToFull) * m)
	recovered := (total == 0 || frac >= th.MinFreeFraction*m) && float64(free) >= float64(th.MinFreeBytes)*m &&
		(h.TimeToFull == 0 || h.TimeToFull >= clearTTF)
	if !recovered {
		return // between a threshold and its clearing level: still low
	}
	full := alarm.Ref("alarm.msg.not_filling")
	if h.TimeToFull > 0 {
		full = h.TimeToFull.Round(time.Second).String()
	}
	am.ClearMsg(alarm.StorageLow, name, alarm.M("alarm.msg.storage_recovered", "percent", pct(frac),
		"free", formatBytes(float64(free)), "full", full, "clear_percent", pct(th.MinFreeFraction*m),
		"clear_full", clearTTF.Round(time.Second).String()))
}

// pct is a fraction as a percentage with one decimal ("5.0").
func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) }

// formatBytes is b bytes in binary units with one decimal ("1.2 GiB").
func formatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
}
