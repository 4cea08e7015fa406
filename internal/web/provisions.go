package web

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/provision"
)

// Provisions (internal/provision): 제3자 제공 and 목적 외 이용, requested by
// one user, approved by another, then produced through the gate — an
// evidence package to download, or an on-site viewing's URLs. The routes
// need a session; the service decides (export on every camera's site to
// request, approve-provision to approve, not one's own request), and a
// provision the user may not know of is "not found".

type provisionJSON struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	Recipient    string    `json:"recipient"`
	Letter       string    `json:"letter"`
	Purpose      string    `json:"purpose"`
	Basis        int       `json:"basis"`
	Statute      string    `json:"statute,omitempty"`
	LegalBasis   string    `json:"legal_basis"`
	Form         string    `json:"form"`
	Period       string    `json:"period"`
	Cameras      []string  `json:"cameras"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	State        string    `json:"state"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	ApprovedBy   string    `json:"approved_by,omitempty"`
	ApprovedAt   time.Time `json:"approved_at,omitzero"`
	ClosedBy     string    `json:"closed_by,omitempty"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	CloseReason  string    `json:"close_reason,omitempty"`
	ProducedBy   string    `json:"produced_by,omitempty"`
	ProducedAt   time.Time `json:"produced_at,omitzero"`
	LedgerSeq    uint64    `json:"ledger_seq,omitempty"`
	Package      string    `json:"package,omitempty"`
	HoldReleased time.Time `json:"hold_released,omitzero"`
	// What the reader may do now.
	MayApprove bool `json:"may_approve"`
	MayRefuse  bool `json:"may_refuse"`
	MayCancel  bool `json:"may_cancel"`
	MayProduce bool `json:"may_produce"`
}

func (s *Server) provisionJSON(ap *access.Principal, x provision.Provision) provisionJSON {
	return provisionJSON{ID: x.ID, Kind: string(x.Kind), Recipient: x.Recipient, Letter: x.Letter, Purpose: x.Purpose,
		Basis: int(x.Basis), Statute: x.Statute, LegalBasis: x.LegalBasis(), Form: string(x.Form), Period: x.Period,
		Cameras: x.Cameras, From: x.From.UTC(), To: x.To.UTC(), State: string(x.State), RequestedBy: x.RequestedBy,
		RequestedAt: x.RequestedAt.UTC(), ApprovedBy: x.ApprovedBy, ApprovedAt: x.ApprovedAt.UTC(), ClosedBy: x.ClosedBy,
		ClosedAt: x.ClosedAt.UTC(), CloseReason: x.CloseReason, ProducedBy: x.ProducedBy, ProducedAt: x.ProducedAt.UTC(),
		LedgerSeq: x.LedgerSeq, Package: x.Package, HoldReleased: x.HoldReleased.UTC(),
		MayApprove: s.opt.Provisions.MayApprove(ap, &x), MayRefuse: s.opt.Provisions.MayRefuse(ap, &x),
		MayCancel: s.opt.Provisions.MayCancel(ap, &x), MayProduce: s.opt.Provisions.MayProduce(ap, &x)}
}

func (s *Server) provisionRoutes() []route {
	if s.opt.Provisions == nil {
		return nil
	}
	sess := func(pattern string, h http.HandlerFunc) route {
		return route{pattern: pattern, rule: ruleSession, h: h}
	}
	return []route{
		sess("GET /api/provisions", s.listProvisions),
		sess("POST /api/provisions", s.createProvision),
		sess("GET /api/provisions/bases", s.listBases),
		sess("GET /api/provisions/{pid}", s.getProvision),
		sess("POST /api/provisions/{pid}/approve", s.approveProvision),
		sess("POST /api/provisions/{pid}/refuse", s.closeProvision),
		sess("POST /api/provisions/{pid}/cancel", s.closeProvision),
		sess("POST /api/provisions/{pid}/produce", s.produceProvision),
		sess("GET /api/provisions/{pid}/package", s.provisionPackage),
	}
}

// provisionArgs returns the request's access principal and its {pid}.
func provisionArgs(r *http.Request) (*access.Principal, int64, error) {
	ap, err := nativeOf(principal(r))
	if err != nil {
		return nil, 0, err
	}
	if r.PathValue("pid") == "" {
		return ap, 0, nil
	}
	id, err := strconv.ParseInt(r.PathValue("pid"), 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, errs.E("web.provision", errs.NotExist, errs.Code("provision.not_found"), "bad provision id")
	}
	return ap, id, nil
}

func (s *Server) listProvisions(w http.ResponseWriter, r *http.Request) {
	ap, _, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	xs, err := s.opt.Provisions.List(r.Context(), ap, r.URL.Query().Get("all") == "1")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []provisionJSON{}
	for _, x := range xs {
		out = append(out, s.provisionJSON(ap, x))
	}
	writeJSON(w, http.StatusOK, out)
}

type basisJSON struct {
	Item         int    `json:"item"`
	Text         string `json:"text"`
	NeedsStatute bool   `json:"needs_statute"`
}

// listBases lists the legal bases (개인정보 보호법 제18조제2항's items) in
// the reader's language.
func (s *Server) listBases(w http.ResponseWriter, r *http.Request) {
	out := []basisJSON{}
	for _, b := range provision.Bases {
		out = append(out, basisJSON{Item: int(b), Text: b.Text(langOf(r)), NeedsStatute: b.NeedsStatute()})
	}
	writeJSON(w, http.StatusOK, out)
}

type provisionInput struct {
	Kind      string    `json:"kind"`
	Recipient string    `json:"recipient"`
	Letter    string    `json:"letter"`
	Purpose   string    `json:"purpose"`
	Basis     int       `json:"basis"`
	Statute   string    `json:"statute"`
	Form      string    `json:"form"`
	Period    string    `json:"period"`
	Cameras   []string  `json:"cameras"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
}

func (s *Server) createProvision(w http.ResponseWriter, r *http.Request) {
	ap, _, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in provisionInput
	if err := decodeBody(r, 16<<10, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.opt.Provisions.Create(r.Context(), ap, provision.Input{Kind: provision.Kind(in.Kind), Recipient: in.Recipient,
		Letter: in.Letter, Purpose: in.Purpose, Basis: provision.Basis(in.Basis), Statute: in.Statute,
		Form: provision.Form(in.Form), Period: in.Period, Cameras: in.Cameras, From: in.From, To: in.To})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.provisionJSON(ap, x))
}

func (s *Server) getProvision(w http.ResponseWriter, r *http.Request) {
	ap, id, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.opt.Provisions.Get(r.Context(), ap, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.provisionJSON(ap, x))
}

func (s *Server) approveProvision(w http.ResponseWriter, r *http.Request) {
	ap, id, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.opt.Provisions.Approve(r.Context(), ap, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.provisionJSON(ap, x))
}

// closeProvision refuses or cancels, with {"reason": ...}.
func (s *Server) closeProvision(w http.ResponseWriter, r *http.Request) {
	ap, id, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(r, 4<<10, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	var x provision.Provision
	if strings.HasSuffix(r.URL.Path, "/refuse") {
		x, err = s.opt.Provisions.Refuse(r.Context(), ap, id, body.Reason)
	} else {
		x, err = s.opt.Provisions.Cancel(r.Context(), ap, id, body.Reason)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.provisionJSON(ap, x))
}

type provisionView struct {
	Camera string `json:"camera"`
	URL    string `json:"url"`
}

type producedJSON struct {
	Provision provisionJSON `json:"provision"`
	LedgerSeq uint64        `json:"ledger_seq"`
	// Download is the package's URL (a copy).
	Download string `json:"download,omitempty"`
	// Views are the on-site viewing's URLs, one per camera, until Expires.
	Views   []provisionView `json:"views,omitempty"`
	Expires time.Time       `json:"expires,omitzero"`
}

// produceProvision produces an approved provision: a copy's package is
// made (download it from Download), a viewing's access is granted (one
// view URL per camera, bound to this session, sharing the gate's handle
// and so its one ledger row).
func (s *Server) produceProvision(w http.ResponseWriter, r *http.Request) {
	ap, id, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A third party watches a viewing: its cameras' privacy zones are
	// masked whoever produces it (zonesForOutsiders), refused before the
	// provision's row when they cannot be.
	if pv, err := s.opt.Provisions.Get(r.Context(), ap, id); err == nil && pv.Form == provision.Viewing {
		for _, c := range pv.Cameras {
			if _, err := s.zonesForOutsiders(c); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	res, err := s.opt.Provisions.Produce(r.Context(), ap, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x := res.Provision
	out := producedJSON{Provision: s.provisionJSON(ap, x), LedgerSeq: x.LedgerSeq}
	if res.View == nil {
		out.Download = fmt.Sprintf("/api/provisions/%d/package", x.ID)
		writeJSON(w, http.StatusOK, out)
		return
	}
	expires := res.Expires
	// An H.265 camera is converted for the browser as a playback is; the
	// row's 형태 stays 현장 열람 (the conversion is the display's).
	var vs []*view
	for _, c := range x.Cameras {
		zones, err := s.zonesForOutsiders(c)
		if err != nil { // ffmpeg went since the check above: nothing is shown
			res.View.Close()
			s.fail(w, r, err)
			return
		}
		vs = append(vs, &view{token: newToken(), session: principal(r).Session, camera: c, start: media.Time90k(x.From),
			end: media.Time90k(x.To), expires: expires, h: res.View, transcode: s.needsTranscode(r.Context(), c, x.From, x.To),
			zones: zones})
	}
	s.mu.Lock()
	s.sweepLocked()
	for _, v := range vs {
		s.views[v.token] = v
		out.Views = append(out.Views, provisionView{Camera: v.camera, URL: "/api/views/" + v.token})
	}
	s.mu.Unlock()
	out.Expires = expires
	writeJSON(w, http.StatusOK, out)
}

// provisionPackage sends a produced copy's package (kept for
// provision.PackageKeep after production).
func (s *Server) provisionPackage(w http.ResponseWriter, r *http.Request) {
	const op = "web.provisionPackage"
	ap, id, err := provisionArgs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	path, name, err := s.opt.Provisions.Package(r.Context(), ap, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.NotExist, errs.Code("provision.package_gone"), err))
		return
	}
	defer f.Close()
	s.log.Info("provision package downloaded", "provision", id, "by", ap.Name)
	s.sendPackage(w, r, op, f, name, 0)
}
