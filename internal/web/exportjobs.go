package web

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/i18n"
)

// Export jobs (export.Jobs): the export dialog of the playback page and
// `gwanje export create` start an export in the background, watch its
// progress, may cancel it, and download the package once it is made.
//
//	POST /api/cameras/{id}/export-jobs      the body of POST .../exports; 202 with the job's status
//	GET  /api/export-jobs/{job}             the status: state, percent, bytes, time left
//	POST /api/export-jobs/{job}/cancel      stop it (no package is left, the ledger says so) or discard its package
//	GET  /api/export-jobs/{job}/package     the ZIP, once made (until it expires)
//
// A job is its maker's: another user's job is "not found". The package
// waits in Options.ExportDir for its download for export.Jobs.Keep, then
// is removed; start-up empties that directory.

// exportJobJSON is a job's status.
type exportJobJSON struct {
	ID      string  `json:"id"`
	State   string  `json:"state"`
	Percent float64 `json:"percent"`
	Done    int64   `json:"done_bytes"`
	Total   int64   `json:"total_bytes"`
	Elapsed float64 `json:"elapsed_seconds"`
	// Cancelling: cancelled, and still removing what it wrote.
	Cancelling bool `json:"cancelling,omitempty"`
	// Left is the estimated seconds to the end; absent while unknown.
	Left *float64 `json:"left_seconds,omitempty"`
	// Package is where to download the package (state done).
	Package   string     `json:"package,omitempty"`
	Expires   string     `json:"expires,omitempty"`
	LedgerSeq uint64     `json:"ledger_seq,omitempty"`
	File      string     `json:"file,omitempty"`  // the package's file name
	Error     *ErrorBody `json:"error,omitempty"` // why a failed job failed, as WriteError tells it
}

// exportCancelWait is how long a cancel waits for its job to end.
var exportCancelWait = 5 * time.Second

func (s *Server) exportJobRoutes() []route {
	js := export.NewJobs(s.opt.ExportDir)
	js.Now = s.clk.Now
	return []route{
		{pattern: "POST /api/cameras/{id}/export-jobs", rule: rulePerm, perm: PermExport, scoped: true, gate: true,
			h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.startExportJob(w, r, js) })},
		{pattern: "GET /api/export-jobs/{job}", rule: ruleSession,
			h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.exportJobStatus(w, r, js) })},
		{pattern: "POST /api/export-jobs/{job}/cancel", rule: ruleSession,
			h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.cancelExportJob(w, r, js) })},
		{pattern: "GET /api/export-jobs/{job}/package", rule: ruleSession,
			h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.exportJobPackage(w, r, js) })},
	}
}

func (s *Server) startExportJob(w http.ResponseWriter, r *http.Request, js *export.Jobs) {
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
	// The gate is passed (or refuses) before the answer: a 202 means the
	// 반출 row is written, and a refusal is this request's error.
	gate, began := export.GateOf(s.opt.Gate, ap), make(chan error, 1)
	j, err := js.Start(principal(r).User, req.Parts(), func(ctx context.Context, p export.Progress, path string) (*export.Manifest, error) {
		req.Progress = p
		m, err := s.opt.Exporter.Export(ctx, func(ctx context.Context, fr access.FootageRequest) (export.Access, error) {
			a, err := gate(ctx, fr)
			began <- err
			return a, err
		}, req, path)
		if err != nil {
			s.log.Info("export job ended without a package", "user", req.RequestedBy, "err", err)
		}
		return m, err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	select {
	case err = <-began:
	case <-j.Done():
		err = j.Status().Err // refused before the gate: no footage, a bad field
	}
	if err != nil {
		<-j.Done()
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/export-jobs/"+j.ID)
	writeJSON(w, http.StatusAccepted, s.exportJobOf(r, j.Status()))
}

func (s *Server) exportJobOf(r *http.Request, st export.Status) exportJobJSON {
	out := exportJobJSON{ID: st.ID, State: string(st.State), Percent: math.Round(st.Percent*10) / 10,
		Done: st.Done, Total: st.Total, Elapsed: math.Round(st.Elapsed.Seconds()*10) / 10, Cancelling: st.Cancelling}
	if st.Left >= 0 {
		left := math.Ceil(st.Left.Seconds())
		out.Left = &left
	}
	if st.State == export.JobDone && st.Manifest != nil {
		out.Package = "/api/export-jobs/" + st.ID + "/package"
		out.Expires = st.Expires.In(s.Zone()).Format(time.RFC3339)
		out.LedgerSeq = st.Manifest.LedgerSeq
		out.File = st.Manifest.ID + ".zip"
	}
	if st.Err != nil {
		out.Error = errorBodyOf(r, st.Err)
	}
	return out
}

// errorBodyOf is the body WriteError would write for err.
func errorBodyOf(r *http.Request, err error) *ErrorBody {
	c, params := errs.CodeOf(err), errs.ParamsOf(err)
	if k := errs.KindOf(err); k == errs.Private {
		c, params = errs.NotExist.Code(), nil
	} else if !i18n.Has(string(c)) {
		c = k.Code()
	}
	return &ErrorBody{Code: c, Message: i18n.T(langOf(r), string(c), params), Params: params}
}

func (s *Server) exportJobStatus(w http.ResponseWriter, r *http.Request, js *export.Jobs) {
	j, err := js.Get(r.PathValue("job"), principal(r).User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.exportJobOf(r, j.Status()))
}

func (s *Server) cancelExportJob(w http.ResponseWriter, r *http.Request, js *export.Jobs) {
	j, err := js.Get(r.PathValue("job"), principal(r).User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j.Cancel()
	// Most jobs end (and clean up) at once; one stuck on a slow read
	// says "cancelling" and the client polls.
	t := time.NewTimer(exportCancelWait)
	defer t.Stop()
	select {
	case <-j.Done():
	case <-t.C:
	case <-r.Context().Done():
	}
	writeJSON(w, http.StatusOK, s.exportJobOf(r, j.Status()))
}

func (s *Server) exportJobPackage(w http.ResponseWriter, r *http.Request, js *export.Jobs) {
	j, err := js.Get(r.PathValue("job"), principal(r).User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, m, err := j.Package()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	s.sendPackage(w, r, "web.exportJobPackage", f, m.ID+".zip", m.LedgerSeq)
}
