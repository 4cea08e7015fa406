package web

import (
	"context"
	"github.com/gwanje/gwanje/internal/access"
	"net/http"
	"net/url"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
)

// rule is who may use a route.
type rule uint8

const (
	rulePublic  rule = iota // anyone: deliberately public
	ruleSession             // any logged-in user
	rulePerm                // a user holding perm (for the camera's site when scoped)
)

// route is one entry of the route table.
type route struct {
	pattern string
	rule    rule
	perm    Perm
	// scoped: the permission is checked for the site of the camera named
	// by the {id} path value; an unknown camera is "not found".
	scoped bool
	// gate: a footage route. The guard authenticates, checks CSRF and
	// resolves the camera; the permission (perm, on the camera's site),
	// the viewing room and the purpose are the gate's (access.Gate),
	// which ledgers a refusal.
	gate bool
	// allowMustChange: reachable by a session that must change its
	// password before anything else.
	allowMustChange bool
	h               http.Handler
}

// routes is the whole HTTP surface of gwanje.
func (s *Server) routes() []route {
	rt := []route{
		{pattern: "GET /ui/", rule: rulePublic, h: uiHandler()},
		{pattern: "GET /healthz", rule: rulePublic, h: http.HandlerFunc(healthz)},

		{pattern: "GET /api/cameras", rule: ruleSession, h: http.HandlerFunc(s.listCameras)},
		{pattern: "GET /api/purposes", rule: ruleSession, h: http.HandlerFunc(s.listPurposes)},
		{pattern: "GET /api/cameras/{id}/recordings", rule: rulePerm, perm: PermPlayback, scoped: true,
			h: http.HandlerFunc(s.recordings)},
	}
	if s.opt.Gate != nil {
		rt = append(rt,
			route{pattern: "POST /api/cameras/{id}/views", rule: rulePerm, perm: PermPlayback, scoped: true, gate: true,
				h: http.HandlerFunc(s.createView)},
			route{pattern: "POST /api/cameras/{id}/live", rule: rulePerm, perm: PermLiveView, scoped: true, gate: true,
				h: http.HandlerFunc(s.createLive)},
			// The view URL handed out after the ledger entry: the grant
			// itself is checked (same session, its access not ended) by
			// the handler.
			route{pattern: "GET /api/views/{token}", rule: ruleSession, h: http.HandlerFunc(s.serveView)})
	}
	rt = append(rt, s.exportRoutes()...)
	rt = append(rt, s.pageRoutes()...)
	rt = append(rt, s.healthRoutes()...)
	rt = append(rt, s.retentionRoutes()...)
	rt = append(rt, s.adminRoutes()...)
	rt = append(rt, s.accountRoutes()...)
	rt = append(rt, s.requestRoutes()...)
	rt = append(rt, s.provisionRoutes()...)
	rt = append(rt, s.requestPageRoutes()...)
	rt = append(rt, s.maskUIRoutes()...)
	if s.opt.Policy != nil {
		for _, p := range []string{"GET /policy", "GET /policy.md", "GET /policy.pdf", "GET /policy/versions", "GET /policy/versions/{n}"} {
			rt = append(rt, route{pattern: p, rule: rulePublic, h: s.opt.Policy})
		}
	}
	return rt
}

// healthRoutes are the monitoring routes of the options that are set.
func (s *Server) healthRoutes() []route {
	var rt []route
	if s.opt.Alarms != nil {
		rt = append(rt,
			// Any session: whoever is on duty must see that a camera is
			// down. Each alarm is filtered by the camera's site.
			route{pattern: "GET /api/alarms", rule: ruleSession, h: http.HandlerFunc(s.listAlarms)},
			route{pattern: "POST /api/alarms/{id}/ack", rule: ruleSession, h: http.HandlerFunc(s.ackAlarm)})
	}
	if s.opt.Health != nil {
		rt = append(rt, route{pattern: "GET /api/health", rule: ruleSession, h: http.HandlerFunc(s.healthSnapshot)})
	}
	if s.opt.Report != nil {
		// The report lists checks, gaps and who acknowledged what: the
		// 관리책임자 and 감사, who read the 관리대장, may read it.
		rt = append(rt, route{pattern: "GET /api/health/report", rule: rulePerm, perm: PermReadLedger, h: s.scopedReport(s.opt.Report)})
	}
	if s.opt.Stills != nil {
		rt = append(rt, route{pattern: "GET /api/cameras/{id}/stills", rule: rulePerm, perm: PermPlayback, scoped: true,
			h: http.HandlerFunc(s.listStills)})
	}
	if s.opt.Stills != nil && s.opt.Gate != nil {
		// A still is a picture of people: viewed like footage, through the
		// gate, with a purpose, ledgered before the first byte.
		rt = append(rt, route{pattern: "POST /api/cameras/{id}/stills/{still}/views", rule: rulePerm, perm: PermPlayback,
			scoped: true, gate: true, h: http.HandlerFunc(s.createStillView)})
	}
	if s.opt.Metrics != nil {
		r := route{pattern: "GET /metrics", rule: rulePublic, h: s.opt.Metrics}
		if s.opt.MetricsPerm != "" {
			r.rule, r.perm = rulePerm, s.opt.MetricsPerm
		}
		rt = append(rt, r)
	}
	return rt
}

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

type ctxKey struct{}

// principal returns the request's authenticated principal.
func principal(r *http.Request) *Principal {
	p, _ := r.Context().Value(ctxKey{}).(*Principal)
	return p
}

// guard wraps a route's handler with its access rule: session, password
// change, CSRF on every state change, permission and site scope.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const op = "web.guard"
		if !safeMethod(r.Method) && !sameOrigin(r) {
			s.fail(w, r, errs.E(op, errs.Permission, "cross-origin request"))
			return
		}
		if rt.rule == rulePublic {
			rt.h.ServeHTTP(w, r)
			return
		}
		p, err := s.opt.Guard.Authenticate(r)
		if err != nil {
			s.fail(w, r, errs.E(op, errs.Unauthorized, err))
			return
		}
		r = withUserLang(r, p)
		if !safeMethod(r.Method) {
			if err := s.opt.Guard.CheckCSRF(r, p); err != nil {
				s.fail(w, r, errs.E(op, errs.Permission, err))
				return
			}
		}
		if p.MustChangePassword && !rt.allowMustChange {
			s.fail(w, r, errs.E(op, errs.Permission, errs.Code("password.must_change"), "the password must be changed first"))
			return
		}
		if rt.rule == rulePerm {
			site := ""
			if rt.scoped {
				cam, ok := s.opt.Cameras.Camera(r.PathValue("id"))
				if !ok {
					s.fail(w, r, errs.Errorf(op, errs.Private, "no camera %q", r.PathValue("id")))
					return
				}
				site = cam.Site
			}
			if !rt.gate {
				if err := s.opt.Guard.Authorize(r, p, rt.perm, site); err != nil {
					s.fail(w, r, err)
					return
				}
			}
		}
		ctx := s.opt.Guard.WithPrincipal(context.WithValue(r.Context(), ctxKey{}, p), p)
		rt.h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// sameOrigin refuses state changes whose Origin (or Referer) names another
// site. Browsers send Origin on every cross-site POST; SameSite=Strict
// cookies and CSRF tokens are the other two layers.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true // not a browser, or a same-origin request without it
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// clientAddr is the request's one client address as the access service
// determined it (access.ClientAddr: the TCP peer, or behind a trusted
// proxy the client it names), for the rows the 관리대장 routes write.
func clientAddr(r *http.Request) string {
	if p := principal(r); p != nil {
		if ap, ok := p.native.(*access.Principal); ok && ap.Client.IsValid() {
			return ap.Client.String()
		}
	}
	if a := access.ClientAddr(r, nil); a.IsValid() {
		return a.String()
	}
	return ""
}
