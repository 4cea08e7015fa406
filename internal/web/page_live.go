package web

import (
	"net/http"
	"sort"

	"github.com/gwanje/gwanje/internal/media"
)

// The live view: a grid of 1, 4, 9 or 16 cameras, each a fragmented MP4
// stream (POST /api/cameras/{id}/live, then GET the granted URL) played
// through Media Source Extensions by ui/live.js. The purpose is asked once
// per sitting, in the page, before the first picture; every camera opened
// in the sitting is its own ledger row with that purpose.
func init() {
	AddPage(&Page{Name: "live", Title: "ui.live.title", Perm: PermLiveView, Menu: 20, Scripts: []string{"mse.js", "live.js"}, Data: loadLive})
}

// pageCamera is a camera as the live and playback scripts see it.
type pageCamera struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Site     string `json:"site"`
	Codec    string `json:"codec,omitempty"`
	State    string `json:"state"` // catalogue key
	Playable bool   `json:"playable"`
}

// camerasFor lists the cameras of the sites where the user holds perm,
// in id order, with the codec of their latest footage.
func camerasFor(s *Server, r *http.Request, pc *PageContext, perm Perm) []pageCamera {
	out := []pageCamera{}
	allowed := map[string]bool{}
	for _, c := range s.opt.Cameras.List() {
		ok, seen := allowed[c.Site]
		if !seen {
			ok = s.opt.Guard.Authorize(r, pc.User, perm, c.Site) == nil
			allowed[c.Site] = ok
		}
		if !ok {
			continue
		}
		pcam := pageCamera{ID: c.ID, Name: c.Name, Site: c.SiteName, State: "ui.state.not_recording"}
		if pcam.Site == "" {
			pcam.Site = c.Site
		}
		if st, ok := s.opt.Cameras.State(c.ID); ok {
			pcam.State = "ui.state." + st.Status.String()
		}
		since := media.Time90k(s.clk.Now()) - 24*3600*media.Hz
		if segs, err := s.opt.Footage.Segments(r.Context(), c.ID, since, 1<<62); err == nil && len(segs) > 0 {
			pcam.Codec = segs[len(segs)-1].Codec.String()
		}
		pcam.Playable = pcam.Codec != media.CodecH265.String() || s.opt.Transcode != ""
		out = append(out, pcam)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out
}

func loadLive(s *Server, r *http.Request, pc *PageContext) (any, error) {
	return camerasFor(s, r, pc, PermLiveView), nil
}
