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
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// PurposeCategories are the viewing purposes a person picks from; the
// free-text reason says the rest. They follow the purposes the seeds
// publish, plus the operational ones.
var PurposeCategories = []string{"시설안전", "범죄예방", "민원확인", "시스템점검", "정보주체요구", "기타"}

// view is a viewing the ledger has recorded: the URL it grants is bound to
// the session that asked for it, the camera and the time range.
type view struct {
	token   string
	session string
	camera  string
	live    bool
	still   int64 // a still frame of a scheduled check, not footage
	start   int64 // 90 kHz
	end     int64
	expires time.Time
	seq     uint64 // the ledger entry

	mu   sync.Mutex
	clip *playback.Clip // built on first use, then fixed: Range requests see one file
}

type viewRequest struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Purpose string    `json:"purpose"`
	Reason  string    `json:"reason"`
}

type viewResponse struct {
	URL       string    `json:"url"`
	Expires   time.Time `json:"expires"`
	LedgerSeq uint64    `json:"ledger_seq"`
}

// readPurpose decodes and checks a viewing request body.
func readPurpose(r *http.Request, v *viewRequest) error {
	const op = "web.readPurpose"
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return errs.E(op, errs.Invalid, errs.Code("request.json"), "not JSON")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E(op, errs.Invalid, errs.Code("request.json"), err)
	}
	ok := false
	for _, c := range PurposeCategories {
		ok = ok || v.Purpose == c
	}
	if !ok {
		return errs.E(op, errs.Invalid, errs.Code("purpose.category"), "no purpose")
	}
	v.Reason = strings.TrimSpace(v.Reason)
	if v.Reason == "" || utf8.RuneCountInString(v.Reason) > 200 {
		return errs.E(op, errs.Invalid, errs.Code("purpose.reason"), errs.Params{"max": "200"}, "no reason")
	}
	return nil
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// createView records a playback in the ledger and only then grants the URL
// that serves it. No footage byte is read before the entry is durable.
func (s *Server) createView(w http.ResponseWriter, r *http.Request) {
	const op = "web.createView"
	var req viewRequest
	if err := readPurpose(r, &req); err != nil {
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
	p := principal(r)
	e := ledger.Entry{
		Kind: ledger.Playback, Actor: p.User, Role: p.Role, Client: clientAddr(r),
		Site: cam.Site, Cameras: []string{cam.ID}, From: req.Start, To: req.End,
		Object:          fmt.Sprintf("%s %s–%s (MP4)", cam.ID, req.Start.Format(time.RFC3339), req.End.Format(time.RFC3339)),
		PurposeCategory: req.Purpose, Purpose: req.Reason, Form: "재생",
	}
	v := &view{session: p.Session, camera: cam.ID, start: media.Time90k(req.Start), end: media.Time90k(req.End)}
	s.grant(w, r, e, v)
}

// createLive records a live viewing and grants its stream URL.
func (s *Server) createLive(w http.ResponseWriter, r *http.Request) {
	const op = "web.createLive"
	var req viewRequest
	if err := readPurpose(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	cam, _ := s.opt.Cameras.Camera(r.PathValue("id"))
	if _, ok := s.opt.Cameras.State(cam.ID); !ok {
		s.fail(w, r, errs.Errorf(op, errs.Unavailable, "camera %q is not recording", cam.ID))
		return
	}
	p := principal(r)
	now := s.clk.Now()
	e := ledger.Entry{
		Kind: ledger.LiveView, Actor: p.User, Role: p.Role, Client: clientAddr(r),
		Site: cam.Site, Cameras: []string{cam.ID}, From: now, To: now.Add(s.opt.ViewTTL),
		Object: cam.ID + " 실시간 영상", PurposeCategory: req.Purpose, Purpose: req.Reason, Form: "실시간 열람",
	}
	s.grant(w, r, e, &view{session: p.Session, camera: cam.ID, live: true})
}

// grant appends the ledger entry and, only when it is durable, hands out
// the view URL.
func (s *Server) grant(w http.ResponseWriter, r *http.Request, e ledger.Entry, v *view) {
	const op = "web.grant"
	got, err := s.opt.Ledger.Append(r.Context(), e)
	if err != nil {
		// Without its ledger row, no footage.
		s.fail(w, r, errs.E(op, errs.Unavailable, err))
		return
	}
	v.token = newToken()
	v.seq = got.Seq
	v.expires = s.clk.Now().Add(s.opt.ViewTTL)
	s.mu.Lock()
	s.sweepLocked()
	s.views[v.token] = v
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, viewResponse{URL: "/api/views/" + v.token, Expires: v.expires, LedgerSeq: got.Seq})
}

// sweepLocked forgets expired views and closes their clips.
func (s *Server) sweepLocked() {
	now := s.clk.Now()
	for t, v := range s.views {
		if now.After(v.expires) {
			v.mu.Lock()
			if v.clip != nil {
				v.clip.Close()
			}
			v.mu.Unlock()
			delete(s.views, t)
		}
	}
}

// Close releases every open view.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, v := range s.views {
		v.mu.Lock()
		if v.clip != nil {
			v.clip.Close()
		}
		v.mu.Unlock()
		delete(s.views, t)
	}
}

// serveView serves a granted view to the session it was granted to.
func (s *Server) serveView(w http.ResponseWriter, r *http.Request) {
	const op = "web.serveView"
	p := principal(r)
	s.mu.Lock()
	v, ok := s.views[r.PathValue("token")]
	s.mu.Unlock()
	if !ok || v.session != p.Session || s.clk.Now().After(v.expires) {
		s.fail(w, r, errs.E(op, errs.Private, "no such view"))
		return
	}
	if v.live {
		s.serveLive(w, r, v)
		return
	}
	if v.still != 0 {
		s.serveStill(w, r, v)
		return
	}
	v.mu.Lock()
	if v.clip == nil {
		c, err := playback.Build(context.WithoutCancel(r.Context()), s.opt.Footage, v.camera, v.start, v.end)
		if err != nil {
			v.mu.Unlock()
			s.fail(w, r, err)
			return
		}
		v.clip = c
	}
	c := v.clip
	v.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", fmt.Sprintf("%q", fmt.Sprintf("%d-%d", v.seq, c.File.Size())))
	h.Set("X-Gwanje-Start", media.FromTime90k(c.Start).UTC().Format(time.RFC3339Nano))
	h.Set("X-Gwanje-End", media.FromTime90k(c.End).UTC().Format(time.RFC3339Nano))
	h.Set("X-Gwanje-Ledger-Seq", fmt.Sprint(v.seq))
	if len(c.Gaps) > 0 {
		var gaps []string
		for _, g := range c.Gaps {
			gaps = append(gaps, media.FromTime90k(g.Start).UTC().Format(time.RFC3339)+"/"+media.FromTime90k(g.End).UTC().Format(time.RFC3339))
		}
		h.Set("X-Gwanje-Gaps", strings.Join(gaps, ","))
	}
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", v.camera+".mp4"))
	http.ServeContent(w, r, "", time.Time{}, c.File.NewReader())
}

// serveLive streams fragmented MP4 from the camera's next key frame until
// the view expires or the client goes away.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, v *view) {
	const op = "web.serveLive"
	sub, ok := s.opt.Cameras.Subscribe(v.camera)
	if !ok {
		s.fail(w, r, errs.Errorf(op, errs.Unavailable, "camera %q is not recording", v.camera))
		return
	}
	defer sub.Close()
	ctx, cancel := context.WithDeadline(r.Context(), v.expires)
	defer cancel()
	flusher, _ := w.(http.Flusher)
	var (
		fr      *media.Fragmenter
		pending *media.Frame
		started bool
	)
	for {
		select {
		case <-ctx.Done():
			return
		case f, open := <-sub.C:
			if !open {
				return
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
				w.Header().Set("Content-Type", "video/mp4")
				w.Header().Set("Cache-Control", "no-store")
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
