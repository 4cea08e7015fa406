package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

type cameraJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Site      string     `json:"site"`
	Codec     string     `json:"codec,omitempty"`
	State     string     `json:"state"`
	Since     *time.Time `json:"since,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Oldest    *time.Time `json:"oldest,omitempty"`
	Newest    *time.Time `json:"newest,omitempty"`
	Live      bool       `json:"live"`
	Playback  bool       `json:"playback"`
}

// listCameras lists the cameras of the sites the user may view live or
// play back; other cameras are not mentioned at all.
func (s *Server) listCameras(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	var sums map[string][2]time.Time
	if s.opt.Summaries != nil {
		var err error
		if sums, err = s.opt.Summaries(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	out := []cameraJSON{}
	for _, c := range s.opt.Cameras.List() {
		live := s.opt.Guard.Authorize(r, p, PermLiveView, c.Site) == nil
		play := s.opt.Guard.Authorize(r, p, PermPlayback, c.Site) == nil
		if !live && !play {
			continue
		}
		j := cameraJSON{ID: c.ID, Name: c.Name, Site: c.Site, State: "not recording", Live: live, Playback: play}
		if st, ok := s.opt.Cameras.State(c.ID); ok {
			j.State = st.Status.String()
			since := st.Since
			j.Since = &since
			j.LastError = st.LastError
		}
		if sum, ok := sums[c.ID]; ok {
			j.Oldest, j.Newest = &sum[0], &sum[1]
		}
		out = append(out, j)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	for i := range out {
		if segs, err := s.opt.Footage.Segments(r.Context(), out[i].ID, media.Time90k(s.clk.Now().Add(-time.Hour)), 1<<62); err == nil && len(segs) > 0 {
			out[i].Codec = segs[len(segs)-1].Codec.String()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type runJSON struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Frames int       `json:"frames"`
	Bytes  int64     `json:"bytes"`
}

// recordings lists what is recorded of a camera in [start, end) as runs
// of contiguous segments; the spaces between runs are the gaps. No footage
// is read, so no ledger entry is written.
func (s *Server) recordings(w http.ResponseWriter, r *http.Request) {
	const op = "web.recordings"
	start, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
	end, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("end"))
	if err1 != nil || err2 != nil || !end.After(start) {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("range.invalid"), "bad range"))
		return
	}
	segs, err := s.opt.Footage.Segments(r.Context(), r.PathValue("id"), media.Time90k(start), media.Time90k(end))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs := []runJSON{}
	var last int64
	for _, sg := range segs {
		if len(runs) > 0 && sg.Start == last {
			rn := &runs[len(runs)-1]
			rn.End = media.FromTime90k(sg.End).UTC()
			rn.Frames += sg.Frames
			rn.Bytes += sg.Bytes
		} else {
			runs = append(runs, runJSON{Start: media.FromTime90k(sg.Start).UTC(), End: media.FromTime90k(sg.End).UTC(), Frames: sg.Frames, Bytes: sg.Bytes})
		}
		last = sg.End
	}
	writeJSON(w, http.StatusOK, runs)
}
