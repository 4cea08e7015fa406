package health

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
)

// Camera is one camera the Monitor watches. *ingest.Supervisor provides
// both functions (see SupervisorCamera); tests give fakes.
type Camera struct {
	ID string
	// State returns the supervisor's snapshot.
	State func() ingest.State
	// Subscribe, if set, returns a live feed of frames and a function that
	// ends it; the Monitor uses it to learn the stream's frame rate and to
	// detect a frozen picture. Without it, frozen detection is off.
	Subscribe func() (<-chan ingest.LiveFrame, func())
	// ExpectedFPS is the frame rate the camera is configured for; zero
	// means learn it from the stream's own timestamps.
	ExpectedFPS float64
}

// SupervisorCamera adapts a running ingest supervisor.
func SupervisorCamera(id string, s *ingest.Supervisor, expectedFPS float64) Camera {
	return Camera{
		ID:    id,
		State: s.State,
		Subscribe: func() (<-chan ingest.LiveFrame, func()) {
			sub := s.Subscribe(64)
			return sub.C, sub.Close
		},
		ExpectedFPS: expectedFPS,
	}
}

// CameraHealth is the continuous signals of one camera.
type CameraHealth struct {
	Camera    string    `json:"camera"`
	Status    string    `json:"status"` // ingest status: connecting, recording, down
	Since     time.Time `json:"since"`
	Connected bool      `json:"connected"` // status is recording
	// FPS, KeyFPS and BitrateBPS are measured over the last Thresholds.RateWindow.
	FPS         float64 `json:"fps"`
	KeyFPS      float64 `json:"key_fps"`
	BitrateBPS  float64 `json:"bitrate_bps"`
	ExpectedFPS float64 `json:"expected_fps"` // configured or learned; 0 until known
	// LastFrame is when the frame counter last advanced (zero: never).
	LastFrame time.Time `json:"last_frame,omitzero"`
	// Totals from ingest.
	Frames      uint64 `json:"frames"`
	KeyFrames   uint64 `json:"key_frames"`
	Bytes       uint64 `json:"bytes"`
	LostPackets uint64 `json:"lost_packets"`
	Dropped     uint64 `json:"dropped"`
	Breaks      uint64 `json:"breaks"`
	Reconnects  uint64 `json:"reconnects"`
	SinkErrors  uint64 `json:"sink_errors"`
	// Clock: RTP clock drift against the server, camera wall clock offset,
	// and how far recorded time runs ahead of the server clock.
	RTPDriftPPM float64       `json:"rtp_drift_ppm"`
	ClockOffset time.Duration `json:"clock_offset_ns"`
	WallAhead   time.Duration `json:"wall_ahead_ns"`
	LastError   string        `json:"last_error,omitempty"`
	// Frozen: the last key frames were byte-identical.
	Frozen bool `json:"frozen"`
	// Alarms are the kinds of this camera's active alarms.
	Alarms []alarm.Kind `json:"alarms,omitempty"`
}

type sample struct {
	at                   time.Time
	frames, keys, nbytes uint64
}

type keySeen struct {
	at   time.Time
	hash [32]byte
}

// tracker holds one camera's detection state. Its fields are guarded by
// the Monitor's mutex.
type tracker struct {
	cam      Camera
	samples  []sample // within RateWindow, oldest first
	last     ingest.State
	started  time.Time
	lastAdv  time.Time // frames last advanced (or start)
	everSeen bool

	// From live frames.
	keys      []keySeen // within FrozenWindow
	lastWall  int64
	durations []int64      // recent frame durations, 90 kHz
	learned   float64      // highest nominal rate seen from the stream's timing
	lastKey   *media.Frame // latest key frame, for the still-frame check

	outage alarm.Kind // CameraDown or CameraStalled while active
	// fresh: the camera has (re)connected or resumed after an outage and no
	// frame of the new connection has been counted yet. Rates are measured
	// over the frames since the connection only, so the time it was away
	// never reads as a low frame rate.
	fresh bool
	cause cause // what the last outage or break was about, for gaps
	h     CameraHealth
}

func newTracker(c Camera, now time.Time) *tracker {
	return &tracker{cam: c, started: now, lastAdv: now, fresh: true}
}

// frame takes one live frame.
func (t *tracker) frame(lf ingest.LiveFrame, now time.Time, th Thresholds) {
	f := lf.Frame
	if lf.Gap {
		t.lastWall = 0
	}
	if t.lastWall != 0 {
		if d := f.Wall - t.lastWall; d > 0 && d < 10*media.Hz {
			t.durations = append(t.durations, d)
			if len(t.durations) > 50 {
				t.durations = t.durations[len(t.durations)-50:]
			}
			if len(t.durations) >= 10 {
				s := slices.Clone(t.durations)
				slices.Sort(s)
				if r := float64(media.Hz) / float64(s[len(s)/2]); r > t.learned {
					t.learned = r
				}
			}
		}
	}
	t.lastWall = f.Wall
	if f.Key {
		t.lastKey = f
		t.keys = append(t.keys, keySeen{at: now, hash: sha256.Sum256(f.Data)})
		t.keys = trimKeys(t.keys, now.Add(-th.FrozenWindow))
	}
}

func trimKeys(k []keySeen, after time.Time) []keySeen {
	i := 0
	for i < len(k) && k[i].at.Before(after) {
		i++
	}
	return k[i:]
}

// frozen reports whether the picture is frozen: at least FrozenKeys key
// frames arrived in the last FrozenWindow and all are byte-identical. A
// camera's encoder never produces the same IDR twice from a live sensor
// (noise alone changes it); a hung source repeats its last picture.
func (t *tracker) frozen(now time.Time, th Thresholds) bool {
	t.keys = trimKeys(t.keys, now.Add(-th.FrozenWindow))
	if len(t.keys) < th.FrozenKeys {
		return false
	}
	for _, k := range t.keys[1:] {
		if k.hash != t.keys[0].hash {
			return false
		}
	}
	return true
}

// expected returns the expected frame rate: configured, else learned.
func (t *tracker) expected() float64 {
	if t.cam.ExpectedFPS > 0 {
		return t.cam.ExpectedFPS
	}
	return t.learned
}

// evaluate updates the signals from a state snapshot and raises or
// clears this camera's alarms.
func (t *tracker) evaluate(st ingest.State, now time.Time, th Thresholds, am *alarm.Manager) {
	advanced := st.Frames > t.last.Frames || !t.everSeen && st.Frames > 0
	if advanced {
		t.lastAdv = now
		t.everSeen = true
	}
	if st.Status != ingest.Recording || st.Reconnects != t.last.Reconnects {
		t.fresh = true
	}
	if t.fresh && advanced && st.Status == ingest.Recording {
		// The first frames of a connection: the rate window starts here.
		t.samples = t.samples[:0]
		t.fresh = false
	}
	if st.LastError != "" && st.LastError != t.last.LastError {
		t.cause = cause{err: st.LastError}
	}
	if st.Breaks > t.last.Breaks && t.cause == (cause{}) {
		t.cause = cause{key: "alarm.msg.cause_discontinuity", en: "stream discontinuity"}
	}
	t.last = st
	t.samples = append(t.samples, sample{at: now, frames: st.Frames, keys: st.KeyFrames, nbytes: st.Bytes})
	cut := now.Add(-th.RateWindow)
	i := 0
	for i < len(t.samples)-1 && !t.samples[i+1].at.After(cut) {
		i++
	}
	t.samples = t.samples[i:]
	first := t.samples[0]
	span := now.Sub(first.at).Seconds()
	h := &t.h
	*h = CameraHealth{
		Camera: t.cam.ID, Status: st.Status.String(), Since: st.Since, Connected: st.Status == ingest.Recording,
		ExpectedFPS: t.expected(), Frames: st.Frames, KeyFrames: st.KeyFrames, Bytes: st.Bytes,
		LostPackets: st.LostPackets, Dropped: st.Dropped, Breaks: st.Breaks, Reconnects: st.Reconnects,
		SinkErrors: st.SinkErrors, RTPDriftPPM: st.Clock.RTPDriftPPM, ClockOffset: st.Clock.Offset,
		WallAhead: st.Clock.WallAhead, LastError: st.LastError,
	}
	if t.everSeen {
		h.LastFrame = t.lastAdv
	}
	full := span >= th.RateWindow.Seconds()*0.9
	if span > 0 {
		h.FPS = float64(st.Frames-first.frames) / span
		h.KeyFPS = float64(st.KeyFrames-first.keys) / span
		h.BitrateBPS = 8 * float64(st.Bytes-first.nbytes) / span
	}

	// No video: down or stalled. One outage is one alarm, of the kind
	// first seen, until frames flow again.
	idle := now.Sub(t.lastAdv)
	if idle >= th.NoVideo {
		if t.outage == "" {
			t.outage = alarm.CameraDown
			if st.Status == ingest.Recording {
				// The session is still up (ingest has not timed it
				// out): connected, but nothing arrives.
				t.outage = alarm.CameraStalled
			}
		}
		code := "alarm.msg.no_video"
		if t.outage == alarm.CameraStalled {
			code = "alarm.msg.stalled"
		}
		msg := alarm.M(code, "duration", idle.Round(time.Second).String())
		if st.LastError != "" {
			msg = alarm.M(code+"_error", "duration", idle.Round(time.Second).String(), "error", st.LastError)
		}
		am.RaiseMsg(t.outage, t.cam.ID, alarm.Critical, msg)
		t.cause = cause{key: "alarm.kind." + string(t.outage), en: string(t.outage), err: st.LastError}
		// Rates mean nothing without frames; measured again from the
		// first frames after it.
		t.fresh = true
	} else if t.outage != "" {
		am.Clear(t.outage, t.cam.ID)
		t.outage = ""
	}

	// Low frame rate, over a full window with frames flowing. The rate is
	// taken up to the last frame, not up to now: a camera that has just
	// stopped is an outage (NoVideo decides), not a slow camera.
	exp := t.expected()
	flowFPS := h.FPS
	if end := t.lastAdv; end.After(first.at) && end.Before(now) {
		flowFPS = float64(st.Frames-first.frames) / end.Sub(first.at).Seconds()
	}
	measured := t.outage == "" && !t.fresh
	low := measured && full && exp > 0 && flowFPS < exp*th.LowFPSFraction
	if low {
		am.RaiseMsg(alarm.LowFrameRate, t.cam.ID, alarm.Warning, alarm.M("alarm.msg.low_frame_rate",
			"fps", fmt.Sprintf("%.1f", flowFPS), "expected", fmt.Sprintf("%.1f", exp)))
	} else if measured && full && (exp == 0 || flowFPS >= exp*th.LowFPSFraction) {
		am.Clear(alarm.LowFrameRate, t.cam.ID)
	}

	// Frozen picture.
	if t.cam.Subscribe != nil {
		h.Frozen = t.frozen(now, th)
		if h.Frozen {
			am.RaiseMsg(alarm.Frozen, t.cam.ID, alarm.Critical, alarm.M("alarm.msg.frozen", "n", fmt.Sprint(len(t.keys))))
		} else if t.outage == "" {
			am.Clear(alarm.Frozen, t.cam.ID)
		}
	}
	for _, k := range []alarm.Kind{alarm.CameraDown, alarm.CameraStalled, alarm.LowFrameRate, alarm.Frozen, alarm.ImageProblem} {
		if _, ok := am.ActiveFor(k, t.cam.ID); ok {
			h.Alarms = append(h.Alarms, k)
		}
	}
}

// cause is what a camera's last outage or break was about: the gap it
// leaves is put down to it. key is a catalogue key (an alarm kind, a
// discontinuity) with en its technical name, err ingest's last error
// (redacted); the zero cause is unknown.
type cause struct{ key, en, err string }

// String is the cause as Gap.Cause gives it: "camera_down: EOF",
// "stream discontinuity", the error alone, or "unknown".
func (c cause) String() string {
	switch {
	case c.en != "" && c.err != "":
		return c.en + ": " + c.err
	case c.en != "":
		return c.en
	case c.err != "":
		return c.err
	}
	return "unknown"
}

// gapMsg is the message of a gap of d put down to c.
func (c cause) gapMsg(d time.Duration) alarm.Msg {
	dur := d.Round(time.Second).String()
	switch {
	case c.key != "" && c.err != "":
		return alarm.M("alarm.msg.gap_error", "duration", dur, "cause", alarm.Ref(c.key), "error", c.err)
	case c.key != "":
		return alarm.M("alarm.msg.gap", "duration", dur, "cause", alarm.Ref(c.key))
	case c.err != "":
		return alarm.M("alarm.msg.gap", "duration", dur, "cause", c.err)
	}
	return alarm.M("alarm.msg.gap", "duration", dur, "cause", alarm.Ref("alarm.msg.cause_unknown"))
}
