package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/requests"
)

// The masking editor (maskui?id=N, docs/guide/requests.md): the reviewer
// of a data-subject request's masked copy sees each camera of the
// request's viewing scope through the viewing grant's playback (POST
// /api/requests/{rid}/views: the gate, its row with the request's
// number), draws rectangles over the picture with a time range each, sees
// the camera's privacy zones (always masked, from the registry), picks the
// style and the watermark, and submits the specs to POST
// /api/requests/{rid}/copy, whose answer is the package the page offers
// for download. ui/maskui.js draws and sends; nothing of the footage
// reaches the page but through the gate.
func init() {
	AddPage(&Page{Name: "maskui", Title: "ui.maskui.title", Perm: PermHandleRequests,
		Scripts: []string{"maskui.js"}, Data: loadMaskUI})
}

// maskCamera is one camera of the editor, with its privacy zones as JSON
// for the script (relative points).
type maskCamera struct {
	ID, Name string
	Zones    string // JSON, for a data- attribute
	HasZones bool
}

type maskUIData struct {
	Available bool
	ID        int64
	Receipt   string
	CanCopy   bool // the 열람 is granted and the request open: a copy can be made
	CanExport bool // this installation makes copies (ffmpeg, exporter, export directory)
	Viewing   bool // a viewing grant runs: the footage can be shown
	Cameras   []maskCamera
	From, To  time.Time // the viewing scope's period
	FromISO   string
	ToISO     string
	Today     string
}

func loadMaskUI(s *Server, r *http.Request, pc *PageContext) (any, error) {
	const op = "web.loadMaskUI"
	d := &maskUIData{Available: s.opt.Requests != nil, Today: pc.Now.In(pc.Zone).Format(time.DateOnly)}
	if !d.Available {
		return d, nil
	}
	x, err := s.requestByID(r, r.URL.Query().Get("id"))
	if k := errs.KindOf(err); k == errs.Private || k == errs.NotExist {
		return nil, errs.E(op, errs.NotExist, errs.Code("ui.error.not_found"), err)
	} else if err != nil {
		return nil, errs.E(op, err)
	}
	d.ID, d.Receipt = x.ID, x.Receipt
	d.CanExport = s.opt.Exporter != nil && s.opt.Gate != nil && s.opt.ExportDir != ""
	open := x.State != requests.Closed
	d.CanCopy = open && x.Decision != nil && x.Decision.Granted(requests.View)
	cams, from, to := viewScope(x)
	d.From, d.To = from, to
	d.FromISO, d.ToISO = from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)
	for _, f := range x.Fulfilments {
		if f.Type == requests.View && f.Until.After(pc.Now) && open {
			d.Viewing = true
		}
	}
	for _, c := range cams {
		mc := maskCamera{ID: c, Name: c}
		if ci, ok := s.opt.Cameras.Camera(c); ok {
			mc.Name = ci.Name
		}
		zones := s.privacyZones(c)
		mc.HasZones = len(zones) > 0
		if zones == nil {
			zones = []mask.Zone{}
		}
		b, err := json.Marshal(zones)
		if err != nil {
			return nil, errs.E(op, err)
		}
		mc.Zones = string(b)
		d.Cameras = append(d.Cameras, mc)
	}
	return d, nil
}

// viewScope is the cameras and period of request x's 열람 (its decision's
// narrowing, if any): what the masked copy holds.
func viewScope(x requests.Request) (cams []string, from, to time.Time) {
	cams, from, to = x.Cameras, x.From, x.To
	if x.Decision == nil {
		return
	}
	if t, ok := x.Decision.Of(requests.View); ok {
		if len(t.Cameras) > 0 {
			cams = t.Cameras
		}
		if !t.From.IsZero() {
			from = t.From
		}
		if !t.To.IsZero() {
			to = t.To
		}
	}
	return
}
