package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
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

// maskUIRoutes are the editor's own API: the face proposals.
func (s *Server) maskUIRoutes() []route {
	if s.opt.Requests == nil || s.opt.Gate == nil || s.opt.Footage == nil {
		return nil
	}
	return []route{{pattern: "POST /api/requests/{rid}/faces", rule: rulePerm, perm: PermHandleRequests,
		h: http.HandlerFunc(s.requestFaces)}}
}

// faceRate is how many frames a second the proposals examine.
const faceRate = 2

// requestFaces proposes face regions on one camera of the request's
// viewing: {"camera": id} → {"regions": [mask regions, seconds from the
// clip's first frame]}. The footage is read like the viewing's playback:
// through the request's viewing grant and the gate (a 관리대장 row with the
// request's number, its object saying what for, before any footage is
// read), into a private temporary file removed at the end; pigo
// (mask.Renderer.Faces) looks at it. Only rectangles leave: they are a
// reviewer's starting point, never the only check.
func (s *Server) requestFaces(w http.ResponseWriter, r *http.Request) {
	const op = "web.requestFaces"
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		Camera string `json:"camera"`
	}
	if err := decodeBody(r, 1<<10, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	_, from, to := viewScope(x)
	cam, ok := s.opt.Cameras.Camera(b.Camera)
	if !ok {
		cam = CameraInfo{ID: b.Camera}
	}
	ap, err := nativeOf(principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	object := fmt.Sprintf("%s %s – %s (얼굴 후보 탐지)", cam.ID, formatTime(from, s.Zone()), formatTime(to, s.Zone()))
	fr, err := s.opt.Requests.ViewAccess(r.Context(), x.ID, access.WayPlayback, access.Camera{ID: cam.ID, Site: cam.Site},
		from, to, object, actorOf(r), ap.Client.String())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fr.Form += " · 얼굴 후보 탐지"
	h, err := s.begin(r, fr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer h.Close()
	s.opt.Requests.Track(x.Receipt, h)
	ctx := h.Context()
	c, err := playback.Build(ctx, s.opt.Footage, cam.ID, media.Time90k(from), media.Time90k(to))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dir, err := os.MkdirTemp("", "gwanje-faces-")
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "clip.mp4")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	rd := c.NewReader(ctx)
	_, err = io.Copy(f, rd)
	rd.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	ps, err := (&mask.Renderer{FFmpeg: s.opt.Transcode}).Faces(ctx, path, mask.FaceOptions{Rate: faceRate})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	regions := []mask.Region{}
	for i, p := range ps {
		regions = append(regions, p.Region(fmt.Sprintf("얼굴 후보 %d", i+1), faceRate))
	}
	writeJSON(w, http.StatusOK, map[string]any{"regions": regions, "ledger_seq": h.Seq()})
}
