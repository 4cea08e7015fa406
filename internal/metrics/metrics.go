// Package metrics exposes gwanje's health signals to Prometheus at
// /metrics, per camera and per storage volume, from a registry of its own
// (never the global default). Every metric is documented in
// docs/ref/metrics.md. The metrics name cameras, so access is configured:
// a bearer token, or an explicit decision to leave it to the caller's
// authentication.
package metrics

import (
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/health"
)

// Sources are what the metrics read; nil fields are left out.
type Sources struct {
	Monitor  *health.Monitor
	Alarms   *alarm.Manager
	Webhooks *alarm.Webhooks
}

// NewRegistry returns a registry with gwanje's collectors and the Go and
// process collectors.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{src: src}, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Access says who may read /metrics.
type Access struct {
	// Token, if set, must be presented as "Authorization: Bearer <token>".
	Token string
	// Networks, if set, are the only client networks served (the peer
	// address of the connection; forwarded headers are not trusted).
	Networks []netip.Prefix
	// Behind says the caller mounts the handler behind its own
	// authentication; without Token, Networks or Behind, Handler refuses
	// to build.
	Behind bool
}

// Handler serves reg in the Prometheus exposition format.
func Handler(reg *prometheus.Registry, acc Access) (http.Handler, error) {
	const op = "metrics.Handler"
	if acc.Token == "" && len(acc.Networks) == 0 && !acc.Behind {
		return nil, errs.E(op, errs.Invalid, "metrics reveal camera names: set a bearer token, a network allowlist or mount behind authentication")
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	want := []byte("Bearer " + acc.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(acc.Networks) > 0 && !allowed(acc.Networks, r.RemoteAddr) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if acc.Token != "" {
			got := []byte(r.Header.Get("Authorization"))
			if subtle.ConstantTimeCompare(got, want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gwanje metrics"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	}), nil
}

// allowed reports whether the peer address is in one of the networks.
func allowed(nets []netip.Prefix, remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("gwanje_"+name, help, labels, nil)
}

var (
	camUp        = desc("camera_up", "1 if the camera's stream is connected and recording.", "camera")
	camFPS       = desc("camera_frames_per_second", "Frames received per second over the rate window.", "camera")
	camKeyFPS    = desc("camera_key_frames_per_second", "Key frames received per second over the rate window.", "camera")
	camExpFPS    = desc("camera_expected_frames_per_second", "Configured or learned frame rate (0 until known).", "camera")
	camBitrate   = desc("camera_bitrate_bits_per_second", "Video bitrate over the rate window.", "camera")
	camFrames    = desc("camera_frames_total", "Frames handed to the store.", "camera")
	camKeys      = desc("camera_key_frames_total", "Key frames handed to the store.", "camera")
	camBytes     = desc("camera_bytes_total", "Video bytes handed to the store.", "camera")
	camLost      = desc("camera_lost_packets_total", "RTP packets missing from the sequence.", "camera")
	camDropped   = desc("camera_dropped_frames_total", "Complete frames not recorded (waiting for a key frame, invalid).", "camera")
	camBreaks    = desc("camera_breaks_total", "Discontinuities in the recorded stream.", "camera")
	camReconn    = desc("camera_reconnects_total", "Connection attempts after the first.", "camera")
	camSinkErr   = desc("camera_write_errors_total", "Frames the store failed to write.", "camera")
	camDrift     = desc("camera_rtp_drift_ppm", "Camera RTP clock rate against the server clock, parts per million.", "camera")
	camOffset    = desc("camera_clock_offset_seconds", "Camera wall clock (RTCP) minus server clock.", "camera")
	camAhead     = desc("camera_wall_ahead_seconds", "How far recorded time runs ahead of the server clock.", "camera")
	camLastFrame = desc("camera_last_frame_timestamp_seconds", "Unix time the frame counter last advanced.", "camera")
	camFrozen    = desc("camera_frozen", "1 if the last key frames were identical (frozen picture).", "camera")
	volFree      = desc("volume_free_bytes", "Bytes available on the storage volume.", "volume")
	volTotal     = desc("volume_size_bytes", "Size of the storage volume.", "volume")
	volWritable  = desc("volume_writable", "1 if the last write probe succeeded.", "volume")
	volErrors    = desc("volume_write_errors_total", "Failed segment writes on the volume.", "volume")
	volRate      = desc("volume_write_rate_bytes_per_second", "Rate at which free space is consumed.", "volume")
	volTTF       = desc("volume_time_to_full_seconds", "Time until the volume is full at the current rate (0: not filling).", "volume")
	alarmsActive = desc("alarms_active", "Active alarms.", "kind", "severity")
	alarmsUnack  = desc("alarms_unacknowledged", "Alarms not yet acknowledged.", "kind")
	checksTotal  = desc("device_checks_total", "Scheduled device checks run since start.")
	gapsRecent   = desc("recording_gaps_recent", "Recording gaps in the monitor's recent list.", "camera")
	hookSent     = desc("webhook_sent_total", "Alarm events delivered to the webhook.", "webhook")
	hookFailed   = desc("webhook_failed_total", "Alarm events given up after every attempt.", "webhook")
	hookDropped  = desc("webhook_dropped_total", "Alarm events dropped because the queue was full.", "webhook")
	hookQueued   = desc("webhook_queued", "Alarm events waiting to be sent.", "webhook")
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{camUp, camFPS, camKeyFPS, camExpFPS, camBitrate, camFrames, camKeys, camBytes,
		camLost, camDropped, camBreaks, camReconn, camSinkErr, camDrift, camOffset, camAhead, camLastFrame, camFrozen,
		volFree, volTotal, volWritable, volErrors, volRate, volTTF, alarmsActive, alarmsUnack, checksTotal, gapsRecent,
		hookSent, hookFailed, hookDropped, hookQueued} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	ct := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	if m := c.src.Monitor; m != nil {
		s := m.Snapshot()
		gaps := map[string]int{}
		for _, gp := range s.Gaps {
			gaps[gp.Camera]++
		}
		for _, h := range s.Cameras {
			id := h.Camera
			g(camUp, b2f(h.Connected), id)
			g(camFPS, h.FPS, id)
			g(camKeyFPS, h.KeyFPS, id)
			g(camExpFPS, h.ExpectedFPS, id)
			g(camBitrate, h.BitrateBPS, id)
			ct(camFrames, h.Frames, id)
			ct(camKeys, h.KeyFrames, id)
			ct(camBytes, h.Bytes, id)
			ct(camLost, h.LostPackets, id)
			ct(camDropped, h.Dropped, id)
			ct(camBreaks, h.Breaks, id)
			ct(camReconn, h.Reconnects, id)
			ct(camSinkErr, h.SinkErrors, id)
			g(camDrift, h.RTPDriftPPM, id)
			g(camOffset, h.ClockOffset.Seconds(), id)
			g(camAhead, h.WallAhead.Seconds(), id)
			if !h.LastFrame.IsZero() {
				g(camLastFrame, float64(h.LastFrame.UnixNano())/1e9, id)
			}
			g(camFrozen, b2f(h.Frozen), id)
			g(gapsRecent, float64(gaps[id]), id)
		}
		for _, v := range s.Volumes {
			g(volFree, float64(v.FreeBytes), v.Volume)
			g(volTotal, float64(v.TotalBytes), v.Volume)
			g(volWritable, b2f(v.Writable), v.Volume)
			ct(volErrors, v.WriteErrors, v.Volume)
			g(volRate, v.WriteRate, v.Volume)
			g(volTTF, v.TimeToFull.Seconds(), v.Volume)
		}
		ct(checksTotal, s.Checks)
	}
	if am := c.src.Alarms; am != nil {
		type ks struct{ k, s string }
		active := map[ks]int{}
		unack := map[string]int{}
		for _, a := range am.List(true) {
			if a.Active() {
				active[ks{string(a.Kind), string(a.Severity)}]++
			}
			if !a.Acked() {
				unack[string(a.Kind)]++
			}
		}
		for k, n := range active {
			g(alarmsActive, float64(n), k.k, k.s)
		}
		for k, n := range unack {
			g(alarmsUnack, float64(n), k)
		}
	}
	if w := c.src.Webhooks; w != nil {
		for i, st := range w.Stats() {
			// Labelled by position in the configuration: a webhook URL may
			// carry a token.
			l := strconv.Itoa(i + 1)
			ct(hookSent, st.Sent, l)
			ct(hookFailed, st.Failed, l)
			ct(hookDropped, st.Dropped, l)
			g(hookQueued, float64(st.Queued), l)
		}
	}
}
