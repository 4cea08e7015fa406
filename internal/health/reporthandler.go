package health

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
)

// ReportHandler serves the monthly report: GET ?month=2026-03&format=csv
// (or pdf). sources is called per request (so the journal is re-read).
// The report names cameras and people: mount it behind authentication,
// and scope it to the reader with WithVisible (the web layer does).
func ReportHandler(sources func(ctx context.Context) (ReportSources, error), loc *time.Location, clk clock.Clock) http.Handler {
	if clk == nil {
		clk = clock.Real{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		m, err := time.ParseInLocation("2006-01", q.Get("month"), loc)
		if err != nil {
			http.Error(w, "month must be YYYY-MM", http.StatusBadRequest)
			return
		}
		format := q.Get("format")
		if format != "csv" && format != "pdf" {
			http.Error(w, "format must be csv or pdf", http.StatusBadRequest)
			return
		}
		src, err := sources(r.Context())
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if v, ok := r.Context().Value(visibleKey{}).(func(string) bool); ok {
			src.Visible = v
		}
		rep, err := MonthlyReport(r.Context(), src, m.Year(), m.Month(), loc, clk.Now())
		if err != nil {
			http.Error(w, "no report for that month", http.StatusBadRequest)
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
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", `attachment; filename="gwanje-health-`+rep.Month+`.`+format+`"`)
		w.Write(b.Bytes())
	})
}

type visibleKey struct{}

// WithVisible returns ctx carrying what the reader of a report may see
// (ReportSources.Visible): ReportHandler then reports only that.
func WithVisible(ctx context.Context, visible func(subject string) bool) context.Context {
	return context.WithValue(ctx, visibleKey{}, visible)
}
