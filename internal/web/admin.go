package web

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Administrative routes: the 관리대장 (query, verify, export, sign-off),
// the registry (view, import with a diff preview) and the policy (preview,
// versions, diff, publish, signage and request form). docs/ref/http.md
// lists them with who may use them.

// PermApproveProvision is the permission of the 관리책임자 that approves
// provision to third parties; the sign-off of the 관리대장 asks for it too,
// so a 감사 reads the 관리대장 but does not sign it off.
const PermApproveProvision Perm = "approve-provision"

// Admin is what the administrative routes need. Each part is optional:
// its routes exist only when it is set.
type Admin struct {
	// Book reads and verifies the 관리대장 (the running *ledger.Ledger).
	Book LedgerBook
	// Institution names the institution in the title of ledger exports.
	Institution string
	// Font is the TrueType font of PDF exports ("" for report.DefaultFont).
	Font string
	// VerifyMaxAge is how long a verification of the chain is shown
	// before the next request runs it again (default 10 minutes).
	VerifyMaxAge time.Duration
	// Registry serves the registry view and import (nil: no routes).
	Registry *RegistryAdmin
	// Policy serves the policy preview and publication (nil: no routes).
	Policy *PolicyAdmin
}

func (s *Server) adminRoutes() []route {
	var rt []route
	rt = append(rt, s.ledgerRoutes()...)
	rt = append(rt, s.registryRoutes()...)
	rt = append(rt, s.policyRoutes()...)
	return rt
}

// zone is the institution's time zone: every date a user types and every
// time the administrative routes print is in it.
func (s *Server) zone() *time.Location { return s.Zone() }

// decodeBody reads a JSON body of at most max bytes into v; unknown
// fields are refused.
func decodeBody(r *http.Request, max int64, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E("web.decodeBody", errs.Invalid, errs.Code("request.json"), err)
	}
	return nil
}

// scope answers, per request, for which sites the user holds perm. A
// thing of no site (a login, a user change, the system itself) is the
// business of who holds perm for every site ("*").
type scope struct {
	s     *Server
	r     *http.Request
	perm  Perm
	sites map[string]bool
}

func (s *Server) scope(r *http.Request, perm Perm) *scope {
	return &scope{s: s, r: r, perm: perm, sites: map[string]bool{}}
}

func (sc *scope) has(site string) bool {
	if site == "" {
		site = "*"
	}
	ok, done := sc.sites[site]
	if !done {
		ok = sc.s.opt.Guard.Authorize(sc.r, principal(sc.r), sc.perm, site) == nil
		sc.sites[site] = ok
	}
	return ok
}

// parseDay parses a date typed in the institution's zone (YYYY-MM-DD) and
// returns the start of that day.
func (s *Server) parseDay(v string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, v, s.zone())
	if err != nil {
		return time.Time{}, errs.E("web.parseDay", errs.Invalid, errs.Code("date.invalid"), errs.Params{"value": shorten(v, 40)}, err)
	}
	return t, nil
}

// shorten shortens a user's value quoted back in a message.
func shorten(v string, n int) string {
	r := []rune(v)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return v
}

// adminState is what the administrative routes keep between requests.
type adminState struct {
	verify   verifyCache // the last verification of the chain
	registry sync.Mutex  // one registry import at a time
	policy   sync.Mutex  // one policy publication at a time
}
