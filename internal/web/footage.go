package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// Footage routes. Every one asks the gate (access.Gate) and nothing else
// for footage: the gate checks the grant, the site, the viewing room and
// the purpose, writes the ledger row and hands back a handle; the view URL
// lives only as long as that handle, and every byte is read and written
// under its context, so a revoked right ends the response within the
// gate's tick.

// view is a granted viewing: the URL it grants is bound to the session
// that asked for it, the camera, the time range and the gate's handle.
type view struct {
	token   string
	session string
	camera  string
	live    bool
	still   int64 // a still frame of a scheduled check
	start   int64 // 90 kHz
	end     int64
	expires time.Time
	h       *access.Handle
	// transcode: H.265 converted to H.264 through ffmpeg (transcode.go).
	transcode bool
	// zones: the camera's privacy zones, masked through ffmpeg for a role
	// that must not see them (zones.go).
	zones []mask.Zone

	mu   sync.Mutex
	clip *playback.Clip // laid out on first use, then fixed: Range requests see one file
}

func (v *view) close() {
	v.mu.Lock()
	if v.clip != nil {
		v.clip.Close()
	}
	v.mu.Unlock()
	v.h.Close()
}

type viewRequest struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Purpose is a code of access.Purposes or its label (GET /api/purposes).
	Purpose string `json:"purpose"`
	Reason  string `json:"reason"`
}

type viewResponse struct {
	URL       string    `json:"url"`
	Expires   time.Time `json:"expires"`
	LedgerSeq uint64    `json:"ledger_seq"`
}

// readView decodes a viewing request body. The purpose is not judged
// here: the gate does, and ledgers a refusal.
func readView(r *http.Request, v *viewRequest) error {
	const op = "web.readView"
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return errs.E(op, errs.Invalid, errs.Code("request.json"), "not JSON")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E(op, errs.Invalid, errs.Code("request.json"), err)
	}
	return nil
}

func (v *viewRequest) purpose() access.Purpose {
	code, ok := access.ParsePurpose(v.Purpose)
	if !ok {
		code = v.Purpose // the gate refuses it, and ledgers the refusal
	}
	return access.Purpose{Code: code, Reason: v.Reason}
}

type purposeJSON struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// listPurposes lists the viewing purposes with their labels in the
// reader's language.
func (s *Server) listPurposes(w http.ResponseWriter, r *http.Request) {
	out := []purposeJSON{}
	for _, c := range access.Purposes {
		out = append(out, purposeJSON{Code: c, Label: access.PurposeLabel(langOf(r), c)})
	}
	writeJSON(w, http.StatusOK, out)
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// begin asks the gate for footage on behalf of the request's principal.
func (s *Server) begin(r *http.Request, req access.FootageRequest) (*access.Handle, error) {
	ap, err := nativeOf(principal(r))
	if err != nil {
		return nil, err
	}
	return s.opt.Gate.Begin(r.Context(), ap, req)
}

// createView asks the gate for a playback (ledger row first) and only
// then grants the URL that serves it.
func (s *Server) createView(w http.ResponseWriter, r *http.Request) {
	const op = "web.createView"
	var req viewRequest
	if err := readView(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.clk.Now()
	if req.End.After(now) {
		req.End = now
	}
	if req.Start.IsZero() || !req.End.After(req.Start) {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("range.invalid"), "bad range"))
		return
	}
	if req.End.Sub(req.Start) > s.opt.MaxSpan {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("range.too_long"), errs.Params{"max": s.opt.MaxSpan.String()}, "range too long"))
		return
	}
	cam, _ := s.opt.Cameras.Camera(r.PathValue("id"))
	expires := now.Add(s.opt.ViewTTL)
	fr := access.FootageRequest{
		Way: access.WayPlayback, Cameras: []access.Camera{{ID: cam.ID, Site: cam.Site}},
		From: req.Start, To: req.End, Until: expires, Purpose: req.purpose(),
		Object: fmt.Sprintf("%s %s – %s (MP4)", cam.ID, formatTime(req.Start, s.Zone()), formatTime(req.End, s.Zone())),
	}
	zones, err := s.zonesToMask(r, cam, access.Playback)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	transcode := s.needsTranscode(r.Context(), cam.ID, req.Start, req.End)
	switch {
	case zones != nil:
		fr.Form, fr.Object = maskedPlayback, fr.Object+maskedSuffix
	case transcode:
		fr.Form, fr.Object = transcodedPlayback, fr.Object+transcodedSuffix
	}
	h, err := s.begin(r, fr)
	if err == nil {
		err = s.zonesHeld(h, cam.ID, zones)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := &view{session: principal(r).Session, camera: cam.ID,
		start: media.Time90k(req.Start), end: media.Time90k(req.End), expires: expires, transcode: transcode, zones: zones}
	s.grant(w, r, h, v)
	// The viewing is ledgered and granted: lay the clip out while the
	// response travels and the browser asks for the file, so its first
	// request finds the header built (or waits for less of it).
	go s.viewClip(v)
}

// createLive asks the gate for a live view and grants its stream URL.
func (s *Server) createLive(w http.ResponseWriter, r *http.Request) {
	var req viewRequest
	if err := readView(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	cam, _ := s.opt.Cameras.Camera(r.PathValue("id"))
	expires := s.clk.Now().Add(s.opt.ViewTTL)
	fr := access.FootageRequest{
		Way: access.WayLive, Cameras: []access.Camera{{ID: cam.ID, Site: cam.Site}},
		Until: expires, Purpose: req.purpose(), Object: cam.ID + " 실시간 영상",
	}
	zones, err := s.zonesToMask(r, cam, access.LiveView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	transcode := s.needsTranscode(r.Context(), cam.ID, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(time.Hour))
	switch {
	case zones != nil:
		fr.Form, fr.Object = maskedLive, fr.Object+maskedSuffix
	case transcode:
		fr.Form, fr.Object = transcodedLive, fr.Object+transcodedSuffix
	}
	h, err := s.begin(r, fr)
	if err == nil {
		err = s.zonesHeld(h, cam.ID, zones)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.grant(w, r, h, &view{session: principal(r).Session, camera: cam.ID, live: true, expires: expires, transcode: transcode, zones: zones})
}

// grant hands out the view URL of a granted access.
func (s *Server) grant(w http.ResponseWriter, r *http.Request, h *access.Handle, v *view) {
	v.token, v.h = newToken(), h
	s.mu.Lock()
	s.sweepLocked()
	s.views[v.token] = v
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, viewResponse{URL: "/api/views/" + v.token, Expires: v.expires, LedgerSeq: h.Seq()})
}

// sweepLocked forgets views that expired or whose access ended.
func (s *Server) sweepLocked() {
	now := s.clk.Now()
	for t, v := range s.views {
		if now.After(v.expires) || v.h.Err() != nil {
			v.close()
			delete(s.views, t)
		}
	}
}

// Close releases every open view.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, v := range s.views {
		v.close()
		delete(s.views, t)
	}
}

// serveView serves a granted view to the session it was granted to, while
// its access lasts.
func (s *Server) serveView(w http.ResponseWriter, r *http.Request) {
	const op = "web.serveView"
	p := principal(r)
	s.mu.Lock()
	s.sweepLocked()
	v, ok := s.views[r.PathValue("token")]
	s.mu.Unlock()
	if !ok || v.session != p.Session {
		s.fail(w, r, errs.E(op, errs.Private, "no such view"))
		return
	}
	release := v.h.Use()
	defer release()
	defer cutOnRevoke(w, v.h)()
	switch {
	case v.live:
		s.serveLive(w, r, v)
	case v.still != 0:
		s.serveStill(w, r, v)
	default:
		s.servePlayback(w, r, v)
	}
}

// cutOnRevoke makes a write blocked on a slow client fail at once when
// the access ends (a read of footage already fails then). It returns the
// function that stops watching, to call before the handler returns.
func cutOnRevoke(w http.ResponseWriter, h *access.Handle) (stop func()) {
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	done := false
	stopAfter := context.AfterFunc(h.Context(), func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			rc.SetWriteDeadline(time.Now())
		}
	})
	return func() {
		stopAfter()
		mu.Lock()
		done = true
		mu.Unlock()
	}
}

// viewClip returns the view's clip, laying it out on first use (under the
// view's handle: never before the gate granted it). A failed layout is not
// kept, so the next request tries again and reports its own error.
func (s *Server) viewClip(v *view) (*playback.Clip, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.clip == nil {
		c, err := playback.Build(v.h.Context(), s.opt.Footage, v.camera, v.start, v.end)
		if err != nil {
			return nil, err
		}
		v.clip = c
	}
	return v.clip, nil
}

// servePlayback serves the view's MP4, reading segment files only for the
// duration of this response.
func (s *Server) servePlayback(w http.ResponseWriter, r *http.Request, v *view) {
	c, err := s.viewClip(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rd := c.NewReader(v.h.Context())
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", fmt.Sprintf("%q", fmt.Sprintf("%d-%d", v.h.Seq(), c.File.Size())))
	h.Set("X-Gwanje-Start", media.FromTime90k(c.Start).UTC().Format(time.RFC3339Nano))
	h.Set("X-Gwanje-End", media.FromTime90k(c.End).UTC().Format(time.RFC3339Nano))
	h.Set("X-Gwanje-Ledger-Seq", fmt.Sprint(v.h.Seq()))
	if len(c.Gaps) > 0 {
		var gaps []string
		for _, g := range c.Gaps {
			gaps = append(gaps, media.FromTime90k(g.Start).UTC().Format(time.RFC3339)+"/"+media.FromTime90k(g.End).UTC().Format(time.RFC3339))
		}
		h.Set("X-Gwanje-Gaps", strings.Join(gaps, ","))
	}
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", v.camera+".mp4"))
	if v.zones != nil {
		s.serveMasked(w, r, v, c.Segments[0], rd)
		return
	}
	if v.transcode {
		s.serveTranscoded(w, r, rd)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, rd)
}

// serveLive streams fragmented MP4 from the camera's next key frame until
// the access ends (revoked, or the view expired) or the client goes away.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, v *view) {
	const op = "web.serveLive"
	sub, ok := s.opt.Cameras.Subscribe(v.camera)
	if !ok {
		s.fail(w, r, errs.E(op, errs.Unavailable, errs.Code("footage.not_recording"), fmt.Sprintf("camera %q is not recording", v.camera)))
		return
	}
	defer sub.Close()
	if v.transcode && v.zones == nil {
		t, err := s.startTranscode(r.Context(), w, true)
		if err != nil {
			s.fail(w, r, errs.E(op, errs.Unavailable, err))
			return
		}
		defer t.finish()
		w = t
	}
	flusher, _ := w.(http.Flusher)
	var (
		fr      *media.Fragmenter
		pending *media.Frame
		started bool
	)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-v.h.Done():
			s.log.Info("live view ended", "camera", v.camera, "why", v.h.Err())
			return
		case f, open := <-sub.Frames():
			if !open {
				return
			}
			if v.h.Err() != nil {
				return // never a frame after the access ended
			}
			if f.Gap {
				pending = nil // resume at this key frame
			}
			if !started {
				if !f.Frame.Key {
					continue
				}
				var err error
				fr, err = media.NewFragmenter(f.Frame.Params)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				init, err := media.Init(f.Frame.Params)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				if v.zones != nil {
					// Masked from the first frame: ffmpeg starts once
					// the picture's size is known.
					t, stop, err := s.startMasked(r.Context(), w, true, v.zones, f.Frame.Params)
					if err != nil {
						s.fail(w, r, err)
						return
					}
					defer stop()
					w = t
					flusher, _ = w.(http.Flusher)
					w.Header().Set("X-Gwanje-Form", "masked")
				}
				w.Header().Set("Content-Type", "video/mp4")
				w.Header().Set("Cache-Control", "no-store")
				w.Header().Set("X-Gwanje-Ledger-Seq", fmt.Sprint(v.h.Seq()))
				// The stream's time 0 on the wall clock: the page shows
				// the picture's own time, and how far behind it is.
				w.Header().Set("X-Gwanje-Start", media.FromTime90k(f.Frame.Wall).UTC().Format(time.RFC3339Nano))
				if _, err := w.Write(init); err != nil {
					return
				}
				started = true
				pending = f.Frame
				continue
			}
			if pending != nil {
				frag, err := fr.Write([]media.Frame{*pending}, f.Frame.Wall)
				if err != nil {
					s.log.Info("live view ended", "camera", v.camera, "err", err)
					return
				}
				if frag.Init != nil {
					if _, err := w.Write(frag.Init); err != nil {
						return
					}
				}
				if _, err := w.Write(frag.Data); err != nil {
					return
				}
				if flusher != nil {
					flusher.Flush()
				}
			}
			if pending == nil && !f.Frame.Key {
				continue
			}
			pending = f.Frame
		}
	}
}
