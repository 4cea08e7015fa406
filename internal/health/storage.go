package health

import (
	"fmt"
	"os"
	"path/filepath"
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
		am.Raise(alarm.StorageUnwritable, v.Name, alarm.Critical,
			fmt.Sprintf("cannot write to %s: %v", v.Dir, err))
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
		cut := now.Add(-th.RateWindow)
		i := 0
		for i < len(t.samples)-1 && !t.samples[i+1].at.After(cut) {
			i++
		}
		t.samples = t.samples[i:]
		first := t.samples[0]
		if span := now.Sub(first.at).Seconds(); span > 0 && first.free > free {
			h.WriteRate = float64(first.free-free) / span
			h.TimeToFull = time.Duration(float64(free) / h.WriteRate * float64(time.Second))
		}
		var why string
		switch {
		case total > 0 && float64(free) < th.MinFreeFraction*float64(total):
			why = fmt.Sprintf("%.1f%% free (%d of %d bytes), below %.1f%%",
				100*float64(free)/float64(total), free, total, 100*th.MinFreeFraction)
		case free < th.MinFreeBytes:
			why = fmt.Sprintf("%d bytes free, below %d", free, th.MinFreeBytes)
		case h.TimeToFull > 0 && h.TimeToFull < th.MinTimeToFull:
			why = fmt.Sprintf("full in %v at %.0f bytes/s (threshold %v)",
				h.TimeToFull.Round(time.Second), h.WriteRate, th.MinTimeToFull)
		}
		if why != "" {
			am.Raise(alarm.StorageLow, v.Name, alarm.Critical, why)
		} else {
			am.Clear(alarm.StorageLow, v.Name)
		}
	}

	if v.WriteErrors != nil {
		n := v.WriteErrors()
		h.WriteErrors = n
		if n > t.lastErrs {
			t.errsAt = now
			am.Raise(alarm.StorageWriteErrors, v.Name, alarm.Critical,
				fmt.Sprintf("%d failed segment writes so far", n))
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
