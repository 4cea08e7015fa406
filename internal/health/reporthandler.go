package health

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
)

// ReportHandler serves the monthly report: GET ?month=2026-03&format=csv
// (or pdf). sources is called per request (so the journal is re-read).
// The report names cameras and people: mount it behind authentication,
// and scope it to the reader with WithVisible (the web layer does), which
// also hands it the one error writer with WithErrorWriter.
func ReportHandler(sources func(ctx context.Context) (ReportSources, error), loc *time.Location, clk clock.Clock) http.Handler {
	if clk == nil {
		clk = clock.Real{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const op = "health.ReportHandler"
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		m, err := time.ParseInLocation("2006-01", q.Get("month"), loc)
		if err != nil {
			reportFail(w, r, errs.E(op, errs.Invalid, errs.Code("report.month"), err))
			return
		}
		format := q.Get("format")
		if format != "csv" && format != "pdf" {
			reportFail(w, r, errs.E(op, errs.Invalid, errs.Code("report.format"), fmt.Errorf("format %q", format)))
			return
		}
		src, err := sources(r.Context())
		if err != nil {
			reportFail(w, r, errs.E(op, err))
			return
		}
		if v, ok := r.Context().Value(visibleKey{}).(func(string) bool); ok {
			src.Visible = v
		}
		rep, err := MonthlyReport(r.Context(), src, m.Year(), m.Month(), loc, clk.Now())
		if errs.Is(err, errs.Invalid) {
			reportFail(w, r, errs.E(op, errs.Invalid, errs.Code("report.not_begun"), errs.Params{"month": m.Format("2006-01")}, err))
			return
		}
		if err != nil {
			reportFail(w, r, errs.E(op, err))
			return
		}
		var b bytes.Buffer
		ctype := "text/csv; charset=utf-8"
		if format == "csv" {
			err = rep.WriteCSV(&b)
		} else {
			ctype = "application/pdf"
			err = rep.WritePDF(&b)
		}
		if err != nil {
			reportFail(w, r, errs.E(op, err))
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", `attachment; filename="gwanje-health-`+rep.Month+`.`+format+`"`)
		w.Write(b.Bytes())
	})
}

// reportFail writes err with the error writer of the request's context,
// or, without one, the status of its kind and its public code only.
func reportFail(w http.ResponseWriter, r *http.Request, err error) {
	if f, ok := r.Context().Value(errorWriterKey{}).(func(http.ResponseWriter, *http.Request, error)); ok {
		f(w, r, err)
		return
	}
	status := http.StatusInternalServerError
	if errs.Is(err, errs.Invalid) {
		status = http.StatusBadRequest
	}
	http.Error(w, string(errs.CodeOf(err)), status)
}

type visibleKey struct{}

// WithVisible returns ctx carrying what the reader of a report may see
// (ReportSources.Visible): ReportHandler then reports only that.
func WithVisible(ctx context.Context, visible func(subject string) bool) context.Context {
	return context.WithValue(ctx, visibleKey{}, visible)
}

type errorWriterKey struct{}

// WithErrorWriter returns ctx carrying the error writer ReportHandler
// answers a failed request with (the web layer's, which writes the
// catalogue's code and message).
func WithErrorWriter(ctx context.Context, fail func(http.ResponseWriter, *http.Request, error)) context.Context {
	return context.WithValue(ctx, errorWriterKey{}, fail)
}
