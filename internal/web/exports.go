package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
)

// Evidence export (internal/export): POST /api/cameras/{id}/exports makes
// an evidence package of the camera (and the further cameras the body
// names) through the gate — permission export on every camera's site, the
// viewing room, the purpose, the 반출 ledger row first — and answers with
// the ZIP itself. The package is built in Options.ExportDir and removed
// once sent: footage decrypted onto disk must not outlive the response.

type exportRequest struct {
	Cameras    []string  `json:"cameras"` // further cameras besides {id}
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Purpose    string    `json:"purpose"`
	Reason     string    `json:"reason"`
	Recipient  string    `json:"recipient"`
	LegalBasis string    `json:"legal_basis"`
	Letter     string    `json:"letter"`
	Period     string    `json:"period"`
}

func (s *Server) exportRoutes() []route {
	if s.opt.Exporter == nil || s.opt.Gate == nil || s.opt.ExportDir == "" {
		return nil
	}
	return append([]route{{pattern: "POST /api/cameras/{id}/exports", rule: rulePerm, perm: PermExport, scoped: true, gate: true,
		h: http.HandlerFunc(s.createExport)}}, s.exportJobRoutes()...)
}

// packageFile names a new package file in the export directory (created
// 0700 if needed) for a package made for one response; the caller
// removes it once sent.
func (s *Server) packageFile(op, prefix string) (string, error) {
	if err := os.MkdirAll(s.opt.ExportDir, 0o700); err != nil {
		return "", errs.E(op, errs.IO, err)
	}
	return filepath.Join(s.opt.ExportDir, prefix+newToken()+".zip"), nil
}

func (s *Server) createExport(w http.ResponseWriter, r *http.Request) {
	const op = "web.createExport"
	req, err := s.exportRequestOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ap, err := nativeOf(principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	path, err := s.packageFile(op, "export-")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.Remove(path)
	m, err := s.opt.Exporter.Export(r.Context(), export.GateOf(s.opt.Gate, ap), req, path)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendWrittenPackage(w, r, op, path, m)
}

// sendWrittenPackage sends the package just written at path (made under
// m) and unlinks it: the open file is what is served, so nothing is left
// in the directory whenever the client finishes reading.
func (s *Server) sendWrittenPackage(w http.ResponseWriter, r *http.Request, op string, path string, m *export.Manifest) {
	f, err := os.Open(path)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	defer f.Close()
	os.Remove(path)
	s.sendPackage(w, r, op, f, m.ID+".zip", m.LedgerSeq)
}

// sendPackage sends an evidence package (ZIP) read from f as an
// attachment named name, with the ledger row it was made under (seq 0:
// none named). Footage is private: never cached.
func (s *Server) sendPackage(w http.ResponseWriter, r *http.Request, op string, f *os.File, name string, seq uint64) {
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	if seq != 0 {
		w.Header().Set("X-Gwanje-Ledger-Seq", strconv.FormatUint(seq, 10))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// exportRequestOf decodes the body of an export (exportRequest) for the
// camera of the path: the range (its end cut to now, at most MaxSpan), the
// further cameras (an unknown one is refused as one out of reach) and the
// purpose; the maker is the caller. The gate checks the rest.
func (s *Server) exportRequestOf(r *http.Request) (export.Request, error) {
	const op = "web.exportRequest"
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return export.Request{}, errs.E(op, errs.Invalid, errs.Code("request.json"), "not JSON")
	}
	var req exportRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return export.Request{}, errs.E(op, errs.Invalid, errs.Code("request.json"), err)
	}
	if now := s.clk.Now(); req.End.After(now) {
		req.End = now
	}
	if req.Start.IsZero() || !req.End.After(req.Start) {
		return export.Request{}, errs.E(op, errs.Invalid, errs.Code("range.invalid"), "bad range")
	}
	if req.End.Sub(req.Start) > s.opt.MaxSpan {
		return export.Request{}, errs.E(op, errs.Invalid, errs.Code("range.too_long"), errs.Params{"max": s.opt.MaxSpan.String()}, "range too long")
	}
	first, _ := s.opt.Cameras.Camera(r.PathValue("id"))
	cams := []access.Camera{{ID: first.ID, Site: first.Site}}
	for _, id := range req.Cameras {
		if id == first.ID {
			continue
		}
		c, ok := s.opt.Cameras.Camera(id)
		if !ok {
			// Unknown and not-allowed look the same.
			return export.Request{}, errs.E(op, errs.Private, "no such camera")
		}
		cams = append(cams, access.Camera{ID: c.ID, Site: c.Site})
	}
	if err := s.zonesAllowExport(r, cams); err != nil {
		return export.Request{}, err
	}
	code, ok := access.ParsePurpose(req.Purpose)
	if !ok {
		code = req.Purpose // the gate refuses it, and ledgers the refusal
	}
	return export.Request{
		Cameras: cams, From: req.Start, To: req.End, Recipient: req.Recipient,
		Purpose:    access.Purpose{Code: code, Reason: req.Reason},
		LegalBasis: req.LegalBasis, Letter: req.Letter, Period: req.Period, RequestedBy: principal(r).User,
	}, nil
}
