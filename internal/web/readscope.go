package web

import (
	"net/http"
	"strings"

	"github.com/gwanje/gwanje/internal/health"
)

// Ledger-reading routes (retention status, holds, the monthly report) are
// allowed to anyone holding read-ledger on some site, and then show only
// what concerns the reader's sites: an auditor of one branch reads nothing
// of another's holds, retention or report.

// ledgerScope answers, per request, whether the reader holds read-ledger
// on a site, a camera's site, or every site; answers are cached for the
// request.
type ledgerScope struct {
	s     *Server
	r     *http.Request
	sites map[string]bool
}

func (s *Server) ledgerScope(r *http.Request) *ledgerScope {
	return &ledgerScope{s: s, r: r, sites: map[string]bool{}}
}

// site reports whether the reader reads the ledger of site ("*": of every
// site).
func (l *ledgerScope) site(site string) bool {
	ok, done := l.sites[site]
	if !done {
		ok = l.s.opt.Guard.Authorize(l.r, principal(l.r), PermReadLedger, site) == nil
		l.sites[site] = ok
	}
	return ok
}

// camera reports whether the reader reads the ledger of camera's site. A
// camera the registry no longer knows belongs to no site the reader can be
// shown to hold: only a reader of every site sees it.
func (l *ledgerScope) camera(id string) bool {
	c, ok := l.s.opt.Cameras.Camera(id)
	if !ok {
		return l.site("*")
	}
	return l.site(c.Site)
}

// cameras reports whether the reader reads the ledger of every camera of
// ids.
func (l *ledgerScope) cameras(ids []string) bool {
	for _, id := range ids {
		if !l.camera(id) {
			return false
		}
	}
	return true
}

// subject is the report's visibility: a camera by its site, "site:<id>"
// by that site, anything else (a volume, the system) to every reader.
func (l *ledgerScope) subject(subject string) bool {
	if site, ok := strings.CutPrefix(subject, "site:"); ok {
		return l.site(site)
	}
	if _, ok := l.s.opt.Cameras.Camera(subject); ok {
		return l.camera(subject)
	}
	return true
}

// scopedReport serves the monthly report holding only the reader's sites,
// its errors written by the one error writer.
func (s *Server) scopedReport(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := s.ledgerScope(r)
		ctx := health.WithErrorWriter(health.WithVisible(r.Context(), scope.subject), s.fail)
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
