package web

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/gwanje/gwanje/internal/mask"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/stills"
)

// Monitoring routes: alarms (list, acknowledge), the health snapshot, the
// monthly report, the still frames of the scheduled checks and /metrics.
// docs/ref/http.md lists them with who may use them.

// Stills is what web needs of the still store; a stills.Store
// implements it.
type Stills interface {
	List(ctx context.Context, camera string, from, to time.Time) ([]stills.Still, error)
	Get(ctx context.Context, id int64) (stills.Still, error)
	Image(ctx context.Context, id int64) (stills.Still, []byte, error)
}

// AckPurpose is the Purpose of the ledger entry that records an alarm
// acknowledgement (kind DeviceCheck, actor the person).
const AckPurpose = access.AckPurpose

// Acks records alarm acknowledgements in the ledger; *access.Service
// implements it.
type Acks interface {
	RecordAlarmAck(ctx context.Context, p *access.Principal, a access.AlarmAck) error
}

// visibility answers, per request, whether the user may see an alarm or
// the health of a camera: a camera's only with live view, playback,
// ledger reading or registry management for its site (the same people
// who may know the camera exists); a volume's or the system's with any
// session; a data-subject request's only with handling requests.
type visibility struct {
	s     *Server
	r     *http.Request
	p     *Principal
	sites map[string]bool
}

func (s *Server) visibility(r *http.Request) *visibility {
	return &visibility{s: s, r: r, p: principal(r), sites: map[string]bool{}}
}

// camera returns the camera named by subject and whether the user may see
// it; ok is false when subject is not a camera.
func (v *visibility) camera(subject string) (cam CameraInfo, isCamera, ok bool) {
	cam, isCamera = v.s.opt.Cameras.Camera(subject)
	if !isCamera {
		return cam, false, true
	}
	seen, done := v.sites[cam.Site]
	if !done {
		for _, perm := range []Perm{PermLiveView, PermPlayback, PermReadLedger, PermManageRegistry} {
			if v.s.opt.Guard.Authorize(v.r, v.p, perm, cam.Site) == nil {
				seen = true
				break
			}
		}
		v.sites[cam.Site] = seen
	}
	return cam, true, seen
}

func (v *visibility) sees(subject string) bool {
	_, _, ok := v.camera(subject)
	return ok
}

// alarm is camera for an alarm's subject, except that a data-subject
// request's alarm (its subject a receipt number) is seen only by those who
// handle requests on some site.
func (v *visibility) alarm(a alarm.Alarm) (cam CameraInfo, isCamera, ok bool) {
	if a.Kind == alarm.RequestDue {
		return CameraInfo{}, false, v.s.opt.Guard.Authorize(v.r, v.p, PermHandleRequests, "") == nil
	}
	return v.camera(a.Subject)
}

// listAlarms lists the alarms the user may see, newest first;
// ?attention=1 keeps only those active or not yet acknowledged.
func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request) {
	vis := s.visibility(r)
	out := []alarm.Alarm{}
	lang := langOf(r)
	for _, a := range s.opt.Alarms.List(r.URL.Query().Get("attention") == "1") {
		if _, _, ok := vis.alarm(a); ok {
			a.Message = a.Text(lang) // in the reader's language (the catalogue's words)
			out = append(out, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alarms": out})
}

// ackAlarm acknowledges an alarm: the ledger entry first (a DeviceCheck
// by the person, purpose AckPurpose), then the alarm journal. An alarm the
// user may not see is "not found".
func (s *Server) ackAlarm(w http.ResponseWriter, r *http.Request) {
	const op = "web.ackAlarm"
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("request.id"), err))
		return
	}
	var body struct {
		Note string `json:"note"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&body)
	}
	body.Note = strings.TrimSpace(body.Note)
	if err != nil || utf8.RuneCountInString(body.Note) > 500 {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("alarm.note"), errs.Params{"max": "500"}, "bad body"))
		return
	}
	// One acknowledgement at a time: the ledger row is written only for
	// an acknowledgement that then happens.
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	a, ok := s.opt.Alarms.Get(id)
	vis := s.visibility(r)
	cam, isCamera, visible := vis.alarm(a)
	if !ok || !visible {
		s.fail(w, r, errs.Errorf(op, errs.Private, "no alarm %d", id))
		return
	}
	if a.Acked() {
		s.fail(w, r, errs.Errorf(op, errs.Conflict, "alarm %d already acknowledged by %s", id, a.AckedBy))
		return
	}
	p := principal(r)
	ap, err := nativeOf(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ack := access.AlarmAck{ID: a.ID, Kind: fmt.Sprint(a.Kind), Subject: a.Subject, Raised: a.Raised.In(s.Zone()), Message: a.Message, Note: body.Note}
	if isCamera {
		ack.Site, ack.Camera = cam.Site, cam.ID
	}
	if err := s.opt.Acks.RecordAlarmAck(r.Context(), ap, ack); err != nil {
		s.fail(w, r, err)
		return
	}
	got, err := s.opt.Alarms.Ack(id, p.User, body.Note)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// healthSnapshot serves the health of the cameras the user may see and of
// the storage volumes, for the dashboard.
func (s *Server) healthSnapshot(w http.ResponseWriter, r *http.Request) {
	snap := s.opt.Health()
	vis := s.visibility(r)
	cams := snap.Cameras[:0:0]
	for _, c := range snap.Cameras {
		if vis.sees(c.Camera) {
			cams = append(cams, c)
		}
	}
	gaps := snap.Gaps[:0:0]
	for _, g := range snap.Gaps {
		if vis.sees(g.Camera) {
			gaps = append(gaps, g)
		}
	}
	snap.Cameras, snap.Gaps = cams, gaps
	if snap.Cameras == nil {
		snap.Cameras = []health.CameraHealth{}
	}
	writeJSON(w, http.StatusOK, snap)
}

// listStills lists the kept still frames of a camera in [start, end)
// (their times and findings, not the pictures): no picture is read, so no
// ledger entry is written.
func (s *Server) listStills(w http.ResponseWriter, r *http.Request) {
	const op = "web.listStills"
	start, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
	end, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("end"))
	if err1 != nil || err2 != nil || !end.After(start) {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("range.invalid"), "bad range"))
		return
	}
	list, err := s.opt.Stills.List(r.Context(), r.PathValue("id"), start, end)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// createStillView asks the gate for the viewing of one still frame (a
// still is a picture of people: viewed like footage, with a purpose,
// ledgered before the first byte) and only then grants the URL that
// serves the picture.
func (s *Server) createStillView(w http.ResponseWriter, r *http.Request) {
	const op = "web.createStillView"
	var vr viewRequest // start and end, if sent, are not used
	if err := readView(r, &vr); err != nil {
		s.fail(w, r, err)
		return
	}
	cam, _ := s.opt.Cameras.Camera(r.PathValue("id"))
	req := access.FootageRequest{Way: access.WayStill, Cameras: []access.Camera{{ID: cam.ID, Site: cam.Site}}, Purpose: vr.purpose()}
	// Who may not view this camera's stills learns nothing of which
	// stills exist: the gate refuses (and ledgers) before the lookup.
	if err := s.opt.Guard.Authorize(r, principal(r), PermPlayback, cam.Site); err != nil {
		_, err = s.begin(r, req)
		s.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("still"), 10, 64)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("request.id"), err))
		return
	}
	st, err := s.opt.Stills.Get(r.Context(), id)
	if err != nil || st.Camera != cam.ID {
		s.fail(w, r, errs.Errorf(op, errs.Private, "no still %d of camera %q", id, cam.ID))
		return
	}
	expires := s.clk.Now().Add(s.opt.ViewTTL)
	req.From, req.To, req.Until = st.RecordedAt, st.RecordedAt, expires
	req.Object = fmt.Sprintf("%s 정지화상 %d (%s, JPEG)", cam.ID, st.ID, formatTime(st.RecordedAt, s.Zone()))
	// A camera's privacy zones are hidden in its stills as in its footage
	// (decision 53), filled in Go: no ffmpeg is needed.
	var zones []mask.Zone
	if z := s.privacyZones(cam.ID); len(z) > 0 && !s.seesZones(r, access.Playback, cam.Site) {
		zones = z
		req.Form, req.Object = maskedStill, req.Object+maskedSuffix
	}
	h, err := s.begin(r, req)
	if err == nil {
		err = s.zonesHeld(h, cam.ID, zones)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.grant(w, r, h, &view{session: principal(r).Session, camera: cam.ID, still: st.ID, expires: expires, zones: zones})
}

// serveStill serves a granted still's picture.
func (s *Server) serveStill(w http.ResponseWriter, r *http.Request, v *view) {
	st, img, err := s.opt.Stills.Image(v.h.Context(), v.still)
	if err == nil && v.zones != nil {
		img, err = mask.FillJPEG(img, v.zones)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	if v.zones != nil {
		h.Set("X-Gwanje-Form", "masked")
	}
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Gwanje-Recorded", st.RecordedAt.UTC().Format(time.RFC3339Nano))
	h.Set("X-Gwanje-Ledger-Seq", fmt.Sprint(v.h.Seq()))
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", fmt.Sprintf("%s-still-%d.jpg", v.camera, st.ID)))
	w.Write(img)
}
