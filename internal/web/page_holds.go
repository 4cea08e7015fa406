package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/gwanje/gwanje/internal/retention"
)

// The holds page (보존 조치): the holds on footage the reader may know of,
// the placing of a manual hold on one or more cameras over a period with
// its reason, and the release of a manual hold (ui/holds.js, on the
// per-camera hold routes). Holds of a request or a provision are shown
// but released only when that closes.
func init() {
	AddPage(&Page{Name: "holds", Title: "ui.adm.holds.title", Perm: PermReadLedger, Menu: 50,
		Scripts: []string{"holds.js"}, Data: loadHoldsPage})
}

type holdRow struct {
	retention.Hold
	Names    []string // the cameras' names
	Manual   bool
	Release  string // the camera whose route releases it ("" when the reader may not)
	OwnerKey string // catalogue key of the owner
}

type holdsPageData struct {
	Available bool
	All       bool // released holds shown too
	Holds     []holdRow
	CanPlace  bool
	Cameras   []option // the cameras the reader may place a hold on
	Today     string
}

func loadHoldsPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &holdsPageData{Available: s.opt.Retention != nil, All: r.URL.Query().Get("all") == "1",
		Today: pc.Now.In(pc.Zone).Format(time.DateOnly)}
	if !d.Available {
		return d, nil
	}
	read := s.scope(r, PermReadLedger)
	handle := s.scope(r, PermHandleRequests)
	names := map[string]CameraInfo{}
	for _, c := range s.opt.Cameras.List() {
		names[c.ID] = c
		if handle.has(c.Site) {
			d.Cameras = append(d.Cameras, option{c.ID, c.Name + " · " + siteLabel(c)})
		}
	}
	d.CanPlace = len(d.Cameras) > 0
	hs, err := s.opt.Retention.Holds(r.Context(), d.All)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		row := holdRow{Hold: h, Manual: h.Owner == retention.OwnerManual, OwnerKey: "ui.adm.holds.owner." + string(h.Owner)}
		// A hold is shown to who reads the 관리대장 of every camera it
		// covers (as GET /api/holds shows it); a camera the registry no
		// longer knows only to a reader of every site.
		seen, all := true, true
		for _, c := range h.Cameras {
			ci, ok := names[c]
			site := "*"
			if ok {
				site = ci.Site
				row.Names = append(row.Names, ci.Name)
			} else {
				row.Names = append(row.Names, c)
			}
			seen = seen && read.has(site)
			all = all && handle.has(site)
		}
		if !seen {
			continue
		}
		if all && row.Manual && h.Released.IsZero() && len(h.Cameras) > 0 {
			row.Release = h.Cameras[0]
		}
		d.Holds = append(d.Holds, row)
	}
	// Newest first.
	slices.SortStableFunc(d.Holds, func(a, b holdRow) int { return b.Created.Compare(a.Created) })
	return d, nil
}

func siteLabel(c CameraInfo) string {
	if c.SiteName != "" {
		return c.SiteName
	}
	return c.Site
}
