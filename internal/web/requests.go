package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/requests"
)

// Data-subject requests (docs/design/requests.md): the public form and its
// JSON twin, the status lookup, and the staff's list, postponement and
// closing. The public routes are deliberately public: anyone may ask.

// maxRequestBody bounds a request's JSON or form body; every text has its
// own limit below it (requests.Validate).
const maxRequestBody = 16 << 10

func (s *Server) requestRoutes() []route {
	if s.opt.Requests == nil {
		return nil
	}
	rs := []route{
		{pattern: "GET /requests/new", rule: rulePublic, h: http.HandlerFunc(s.requestFormPage)},
		{pattern: "POST /requests/new", rule: rulePublic, h: http.HandlerFunc(s.requestFormSubmit)},
		{pattern: "POST /requests/status", rule: rulePublic, h: http.HandlerFunc(s.requestStatusPage)},
		{pattern: "POST /api/requests", rule: rulePublic, h: http.HandlerFunc(s.submitRequest)},
		{pattern: "POST /api/requests/status", rule: rulePublic, h: http.HandlerFunc(s.requestStatus)},
		{pattern: "GET /api/requests", rule: rulePerm, perm: PermHandleRequests, h: http.HandlerFunc(s.listRequests)},
		{pattern: "POST /api/requests/intake", rule: rulePerm, perm: PermHandleRequests, h: http.HandlerFunc(s.staffIntake)},
		{pattern: "POST /api/requests/{rid}/postpone", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.postponeRequest)},
		{pattern: "POST /api/requests/{rid}/identity", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.requestIdentity)},
		{pattern: "POST /api/requests/{rid}/close", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.closeRequest)},
		{pattern: "GET /api/requests/{rid}", rule: rulePerm, perm: PermHandleRequests, h: http.HandlerFunc(s.getRequest)},
		{pattern: "POST /api/requests/{rid}/cameras", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.nameRequestCameras)},
		{pattern: "POST /api/requests/{rid}/decision", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.decideRequest)},
		{pattern: "POST /api/requests/{rid}/existence", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.answerExistence)},
		{pattern: "POST /api/requests/{rid}/view-grant", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.grantRequestView)},
		{pattern: "POST /api/requests/{rid}/views", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.createRequestView)},
		{pattern: "POST /api/requests/{rid}/stills/{still}/views", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.createRequestStillView)},
		{pattern: "POST /api/requests/{rid}/deletion", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.deleteRequestFootage)},
	}
	if s.opt.Exporter != nil && s.opt.Gate != nil && s.opt.ExportDir != "" {
		rs = append(rs, route{pattern: "POST /api/requests/{rid}/copy", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.requestCopy)})
	}
	return rs
}

// requestClient is the client address the rate limits count: the access
// service's (trusted proxies), else the TCP peer.
func (s *Server) requestClient(r *http.Request) netip.Addr {
	if s.opt.Accounts != nil {
		return s.opt.Accounts.ClientIP(r)
	}
	return access.ClientAddr(r, nil)
}

// requestJSON is the body of POST /api/requests (docs/ref/http.md).
type requestJSON struct {
	Types     []requests.Type `json:"types"`
	Requester requests.Person `json:"requester"`
	Subject   requests.Person `json:"subject"`
	From      string          `json:"from"` // RFC 3339, or 2006-01-02T15:04 in the institution's zone
	To        string          `json:"to"`
	Site      string          `json:"site"`
	Cameras   []string        `json:"cameras"`
	Place     string          `json:"place"`
	Purpose   string          `json:"purpose"`
}

// parseRequestTime reads a period's end: "" is zero (Validate names it).
func parseRequestTime(field, v string, zone *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.E("web.parseRequestTime", errs.Invalid, errs.Code("requests.time"),
		errs.Params{"field": field}, "bad time in "+field)
}

func (s *Server) requestInput(b requestJSON) (requests.Input, error) {
	in := requests.Input{Types: b.Types, Site: b.Site, Cameras: b.Cameras, Personal: requests.Personal{
		Requester: b.Requester, Subject: b.Subject, Place: b.Place, Purpose: b.Purpose}}
	var err error
	if in.From, err = parseRequestTime("from", b.From, s.Zone()); err != nil {
		return in, err
	}
	in.To, err = parseRequestTime("to", b.To, s.Zone())
	return in, err
}

func (s *Server) submitRequest(w http.ResponseWriter, r *http.Request) {
	var b requestJSON
	if err := decodeBody(r, maxRequestBody, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.requestInput(b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.opt.Requests.Submit(r.Context(), in, s.requestClient(r), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"receipt": x.Receipt, "received": x.Received, "due": x.Due})
}

// staffIntake takes a request at a visit, by phone or by mail: the body of
// POST /api/requests, by a holder of handle-requests on the site of its
// cameras (or on every site for a described place), who is recorded as
// the intake; no rate limit.
func (s *Server) staffIntake(w http.ResponseWriter, r *http.Request) {
	var b requestJSON
	if err := decodeBody(r, maxRequestBody, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.requestInput(b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	site := b.Site
	if len(b.Cameras) > 0 {
		cam, ok := s.opt.Cameras.Camera(b.Cameras[0])
		if !ok {
			s.fail(w, r, errs.E("web.staffIntake", errs.Invalid, errs.Code("requests.camera"), errs.Params{"field": "cameras"}, "unknown camera"))
			return
		}
		site = cam.Site
	}
	if !s.scope(r, PermHandleRequests).has(site) {
		s.fail(w, r, errs.E("web.staffIntake", errs.Permission, "handle-requests not held on the request's site"))
		return
	}
	x, err := s.opt.Requests.Submit(r.Context(), in, s.requestClient(r), principal(r).User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": x.ID, "receipt": x.Receipt, "received": x.Received, "due": x.Due})
}

type statusJSON struct {
	Receipt string `json:"receipt"`
	Phone   string `json:"phone"`
}

func (s *Server) requestStatus(w http.ResponseWriter, r *http.Request) {
	var b statusJSON
	if err := decodeBody(r, 1<<10, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.opt.Requests.Lookup(r.Context(), strings.TrimSpace(b.Receipt), b.Phone, s.requestClient(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// requestView is a request as staff list it.
type requestView struct {
	ID             int64           `json:"id"`
	Receipt        string          `json:"receipt"`
	Types          []requests.Type `json:"types"`
	From           time.Time       `json:"from"`
	To             time.Time       `json:"to"`
	Site           string          `json:"site"`
	Cameras        []string        `json:"cameras"`
	Channel        string          `json:"channel"`
	Received       time.Time       `json:"received"`
	Due            time.Time       `json:"due"`
	Urgency        string          `json:"urgency"`
	PostponeReason string          `json:"postpone_reason,omitempty"`
	State          requests.State  `json:"state"`
	// IdentityChecked and Outcome (approved, partly, refused; absent
	// before the decision) say where the request stands in its work.
	IdentityChecked bool   `json:"identity_checked"`
	Outcome         string `json:"outcome,omitempty"`
}

// listRequests lists the requests of the sites the user handles requests
// for; a request of no named site (a described place) is for who handles
// them everywhere. ?all=1 adds the closed ones.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	rs, err := s.opt.Requests.List(r.Context(), r.URL.Query().Get("all") == "1")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc := s.scope(r, PermHandleRequests)
	out := []requestView{}
	for _, x := range rs {
		if !sc.has(x.Site) {
			continue
		}
		out = append(out, s.viewOf(x))
	}
	writeJSON(w, http.StatusOK, out)
}

// staffRequest is the request of the path's {rid}, if the user handles
// requests on its site (otherwise it does not exist for them).
func (s *Server) staffRequest(r *http.Request) (requests.Request, error) {
	const op = "web.staffRequest"
	id, err := strconv.ParseInt(r.PathValue("rid"), 10, 64)
	if err != nil {
		return requests.Request{}, errs.Errorf(op, errs.NotExist, "no request %q", r.PathValue("rid"))
	}
	x, ok, err := s.opt.Requests.Get(r.Context(), id)
	if err != nil {
		return requests.Request{}, err
	}
	if !ok || !s.scope(r, PermHandleRequests).has(x.Site) {
		return requests.Request{}, errs.Errorf(op, errs.Private, "no request %d for this user", id)
	}
	return x, nil
}

// bodyRule says whether a staff route's JSON body may be empty.
type bodyRule int

const (
	bodyRequired bodyRule = iota
	bodyOptional          // an empty body is the zero B
	bodyNone              // no body is read
)

// onRequest runs a staff route on the request its path names: it finds the
// request within the user's handle-requests scope (another site's is "not
// found"), decodes the JSON body (at most max bytes, no unknown fields)
// into a B, calls do, and writes do's result with 200, or any error
// through the one error writer.
func onRequest[B any](s *Server, w http.ResponseWriter, r *http.Request, max int64, rule bodyRule,
	do func(x requests.Request, b *B) (any, error)) {
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b B
	switch rule {
	case bodyRequired:
		err = decodeBody(r, max, &b)
	case bodyOptional:
		err = decodeOptional(r, max, &b)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := do(x, &b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postponeRequest(w http.ResponseWriter, r *http.Request) {
	type body struct {
		Date   string `json:"date"` // 2006-01-02, in the institution's zone
		Reason string `json:"reason"`
	}
	onRequest(s, w, r, 4<<10, bodyRequired, func(x requests.Request, b *body) (any, error) {
		day, err := time.ParseInLocation("2006-01-02", b.Date, s.Zone())
		if err != nil {
			return nil, errs.E("web.postponeRequest", errs.Invalid, errs.Code("requests.time"), errs.Params{"field": "date"}, err)
		}
		if x, err = s.opt.Requests.Postpone(r.Context(), x.ID, day, b.Reason, actorOf(r)); err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "due": x.Due}, nil
	})
}

func (s *Server) requestIdentity(w http.ResponseWriter, r *http.Request) {
	type body struct {
		Method string `json:"method"`
		Proxy  string `json:"proxy"`
	}
	onRequest(s, w, r, 2<<10, bodyRequired, func(x requests.Request, b *body) (any, error) {
		x, err := s.opt.Requests.RecordIdentity(r.Context(), x.ID, b.Method, b.Proxy, actorOf(r))
		if err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "identity_by": x.IdentityBy, "identity_at": x.IdentityAt}, nil
	})
}

// closeRequest closes an answered request; {"withdrawn": true} closes it
// as withdrawn by the requester, whatever was decided or done. The body
// may be empty.
func (s *Server) closeRequest(w http.ResponseWriter, r *http.Request) {
	type body struct {
		Withdrawn bool `json:"withdrawn"`
	}
	onRequest(s, w, r, 1<<10, bodyOptional, func(x requests.Request, b *body) (any, error) {
		var err error
		if b.Withdrawn {
			x, err = s.opt.Requests.Withdraw(r.Context(), x.ID, actorOf(r))
		} else {
			x, err = s.opt.Requests.Close(r.Context(), x.ID, actorOf(r))
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "state": x.State, "closed_at": x.ClosedAt, "withdrawn": x.Withdrawn}, nil
	})
}

// The public pages: a form that works without JavaScript. Every value is
// printed through html/template, so what a person typed is shown as text.

var requestPageTmpl = template.Must(template.New("request-public.html").Funcs(template.FuncMap{
	"has": func(ts []requests.Type, t string) bool { return slices.Contains(ts, requests.Type(t)) },
}).ParseFS(templateFS, "templates/request-public.html"))

type requestPageData struct {
	Lang    i18n.Lang
	T       func(key string) string
	Form    requestJSON
	Error   string
	Field   string
	Receipt string
	Due     string
	Status  *requests.Status
	Zone    string
	Max     int
}

func (s *Server) renderRequestPage(w http.ResponseWriter, r *http.Request, code int, d requestPageData) {
	lang := langOf(r)
	d.Lang = lang
	d.T = func(key string) string { return i18n.T(lang, key, nil) }
	d.Zone = s.Zone().String()
	d.Max = int(requests.MaxSpan.Hours())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; frame-ancestors 'none'")
	// The form posts without script: with the server's no-referrer a
	// browser sends "Origin: null", which the same-origin check refuses.
	// same-origin keeps the Origin (and a Referer only to gwanje itself).
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(code)
	if err := requestPageTmpl.Execute(w, d); err != nil {
		s.log.Error("request page", "err", err)
	}
}

func (s *Server) requestFormPage(w http.ResponseWriter, r *http.Request) {
	s.renderRequestPage(w, r, http.StatusOK, requestPageData{})
}

// pageError words err for the page: the catalogue's message; a field's
// name is given so the page can mark it.
func pageError(r *http.Request, err error) (string, string, int) {
	k := errs.KindOf(err)
	c, p := errs.CodeOf(err), errs.ParamsOf(err)
	if k == errs.Private {
		c, p = "requests.lookup", nil
	}
	if !i18n.Has(string(c)) {
		c = k.Code()
	}
	return i18n.T(langOf(r), string(c), p), p["field"], status(k)
}

func (s *Server) requestFormSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E("web.requestFormSubmit", errs.TooLarge, err))
		return
	}
	f := r.PostForm
	b := requestJSON{From: f.Get("from"), To: f.Get("to"), Site: f.Get("site"), Place: f.Get("place"), Purpose: f.Get("purpose"),
		Requester: requests.Person{Name: f.Get("requester.name"), Phone: f.Get("requester.phone"), Birth: f.Get("requester.birth"),
			Address: f.Get("requester.address"), Relation: f.Get("requester.relation")},
		Subject: requests.Person{Name: f.Get("subject.name"), Phone: f.Get("subject.phone"), Birth: f.Get("subject.birth"),
			Address: f.Get("subject.address"), Relation: f.Get("subject.relation")}}
	for _, t := range f["type"] {
		b.Types = append(b.Types, requests.Type(t))
	}
	if c := strings.TrimSpace(f.Get("camera")); c != "" {
		b.Cameras = []string{c}
	}
	in, err := s.requestInput(b)
	var x requests.Request
	if err == nil {
		x, err = s.opt.Requests.Submit(r.Context(), in, s.requestClient(r), "")
	}
	if err != nil {
		s.log.Info("request form refused", "err", err)
		msg, field, code := pageError(r, err)
		s.renderRequestPage(w, r, code, requestPageData{Form: b, Error: msg, Field: field})
		return
	}
	s.renderRequestPage(w, r, http.StatusCreated, requestPageData{Receipt: x.Receipt, Due: formatTime(x.Due.Add(-time.Second), s.Zone())})
}

func (s *Server) requestStatusPage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E("web.requestStatusPage", errs.TooLarge, err))
		return
	}
	st, err := s.opt.Requests.Lookup(r.Context(), strings.TrimSpace(r.PostForm.Get("receipt")), r.PostForm.Get("phone"),
		s.requestClient(r))
	if err != nil {
		msg, _, code := pageError(r, err)
		s.renderRequestPage(w, r, code, requestPageData{Error: msg})
		return
	}
	s.renderRequestPage(w, r, http.StatusOK, requestPageData{Status: &st, Due: formatTime(st.Due.Add(-time.Second), s.Zone())})
}

// actorOf is the staff member of r as the requests service names them.
func actorOf(r *http.Request) requests.Actor {
	p := principal(r)
	return requests.Actor{User: p.User, Role: p.Role}
}

// decodeOptional decodes a JSON body that may be empty (then v is left
// as it is).
func decodeOptional(r *http.Request, max int64, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil || int64(len(b)) > max {
		return errs.E("web.decodeOptional", errs.Invalid, errs.Code("request.json"), "body unreadable or too long")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E("web.decodeOptional", errs.Invalid, errs.Code("request.json"), err)
	}
	return nil
}

// requestDetail is a request as its detail page shows it: the request,
// its decision and what was done, and, for the staff who handle it, the
// person (sealed at rest; absent once forgotten).
type requestDetail struct {
	requestView
	Intake         string                `json:"intake,omitempty"`
	IdentityMethod string                `json:"identity_method,omitempty"`
	IdentityProxy  string                `json:"identity_proxy,omitempty"`
	IdentityBy     string                `json:"identity_by,omitempty"`
	IdentityAt     time.Time             `json:"identity_at,omitzero"`
	Postponed      time.Time             `json:"postponed,omitzero"`
	Decision       *requests.Decision    `json:"decision"`
	Fulfilments    []requests.Fulfilment `json:"fulfilments"`
	ViewUntil      time.Time             `json:"view_until,omitzero"`
	ClosedAt       time.Time             `json:"closed_at,omitzero"`
	ClosedBy       string                `json:"closed_by,omitempty"`
	Withdrawn      bool                  `json:"withdrawn,omitempty"`
	Forgotten      time.Time             `json:"forgotten,omitzero"`
	Personal       *requests.Personal    `json:"personal"`
}

func (s *Server) viewOf(x requests.Request) requestView {
	v := requestView{ID: x.ID, Receipt: x.Receipt, Types: x.Types, From: x.From, To: x.To, Site: x.Site,
		Cameras: x.Cameras, Channel: x.Channel, Received: x.Received, Due: x.Due,
		Urgency: string(s.opt.Requests.Calendar().Urgency(x, s.clk.Now())), PostponeReason: x.PostponeReason, State: x.State}
	v.IdentityChecked = !x.IdentityAt.IsZero()
	if x.Decision != nil {
		v.Outcome = string(x.Decision.Outcome())
	}
	return v
}

// getRequest is GET /api/requests/{rid}: the request's detail for a
// holder of handle-requests on its site (no-store: it holds a person).
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := requestDetail{requestView: s.viewOf(x), Intake: x.Intake, IdentityMethod: x.IdentityMethod,
		IdentityProxy: x.IdentityProxy, IdentityBy: x.IdentityBy, IdentityAt: x.IdentityAt, Postponed: x.Postponed,
		Decision: x.Decision, Fulfilments: x.Fulfilments, ClosedAt: x.ClosedAt, ClosedBy: x.ClosedBy,
		Withdrawn: x.Withdrawn, Forgotten: x.Forgotten}
	if d.Fulfilments == nil {
		d.Fulfilments = []requests.Fulfilment{}
	}
	for _, f := range x.Fulfilments {
		if f.Type == requests.View && f.Until.After(d.ViewUntil) {
			d.ViewUntil = f.Until
		}
	}
	p, ok, err := s.opt.Requests.Personal(r.Context(), x.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ok {
		d.Personal = &p
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, d)
}

// nameRequestCameras names the cameras of a described place's request
// ({"cameras": [...]}, all of one site), placing its hold. Who names them
// must handle requests on that site too.
func (s *Server) nameRequestCameras(w http.ResponseWriter, r *http.Request) {
	const op = "web.nameRequestCameras"
	type body struct {
		Cameras []string `json:"cameras"`
	}
	onRequest(s, w, r, 4<<10, bodyRequired, func(x requests.Request, b *body) (any, error) {
		if len(b.Cameras) > 0 {
			cam, ok := s.opt.Cameras.Camera(b.Cameras[0])
			if !ok {
				return nil, errs.E(op, errs.Invalid, errs.Code("requests.camera"), errs.Params{"field": "cameras"}, "unknown camera")
			}
			if !s.scope(r, PermHandleRequests).has(cam.Site) {
				return nil, errs.E(op, errs.Permission, "handle-requests not held on the cameras' site")
			}
		}
		x, err := s.opt.Requests.NameCameras(r.Context(), x.ID, b.Cameras, actorOf(r))
		if err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "site": x.Site, "cameras": x.Cameras}, nil
	})
}

// decisionJSON is the body of POST /api/requests/{rid}/decision.
type decisionJSON struct {
	Types []struct {
		Type    requests.Type    `json:"type"`
		Outcome requests.Outcome `json:"outcome"`
		Ground  requests.Ground  `json:"ground"`
		Note    string           `json:"note"`
		Cameras []string         `json:"cameras"`
		From    string           `json:"from"`
		To      string           `json:"to"`
	} `json:"types"`
	Note string `json:"note"`
}

// decideRequest records the decision: per type approved, partly (with a
// ground, and optionally narrowed cameras and period) or refused (with a
// ground), and free text.
func (s *Server) decideRequest(w http.ResponseWriter, r *http.Request) {
	onRequest(s, w, r, 8<<10, bodyRequired, func(x requests.Request, b *decisionJSON) (any, error) {
		d := requests.Decision{Note: b.Note}
		for _, t := range b.Types {
			td := requests.TypeDecision{Type: t.Type, Outcome: t.Outcome, Ground: t.Ground, Note: t.Note, Cameras: t.Cameras}
			var err error
			if td.From, err = parseRequestTime("from", t.From, s.Zone()); err == nil {
				td.To, err = parseRequestTime("to", t.To, s.Zone())
			}
			if err != nil {
				return nil, err
			}
			d.Types = append(d.Types, td)
		}
		x, err := s.opt.Requests.Decide(r.Context(), x.ID, d, actorOf(r))
		if err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "outcome": x.Decision.Outcome(), "decision": x.Decision}, nil
	})
}

// answerExistence answers the 존재확인: {"exists": true|false}, nothing
// more.
func (s *Server) answerExistence(w http.ResponseWriter, r *http.Request) {
	onRequest(s, w, r, 0, bodyNone, func(x requests.Request, _ *struct{}) (any, error) {
		ok, err := s.opt.Requests.AnswerExistence(r.Context(), x.ID, actorOf(r))
		if err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "exists": ok}, nil
	})
}

// grantRequestView grants the on-site viewing of a request:
// {"minutes": 60} (optional; default 60, at most 480).
func (s *Server) grantRequestView(w http.ResponseWriter, r *http.Request) {
	type body struct {
		Minutes int `json:"minutes"`
	}
	onRequest(s, w, r, 1<<10, bodyOptional, func(x requests.Request, b *body) (any, error) {
		until, err := s.opt.Requests.GrantView(r.Context(), x.ID, time.Duration(b.Minutes)*time.Minute, actorOf(r))
		if err != nil {
			return nil, err
		}
		return map[string]any{"receipt": x.Receipt, "until": until}, nil
	})
}

// requestViewJSON is the body of POST /api/requests/{rid}/views.
type requestViewJSON struct {
	Camera string    `json:"camera"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// createRequestView is a viewing under a request's on-site grant: the
// request's service checks the grant, the camera and the range (and
// ledgers a refusal), then the gate checks the user's playback on the
// site and the viewing room and writes the row, with the request's
// number, before the view URL is granted. The URL ends with the grant
// or when the request closes.
func (s *Server) createRequestView(w http.ResponseWriter, r *http.Request) {
	const op = "web.createRequestView"
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b requestViewJSON
	if err := decodeBody(r, 1<<10, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Start.IsZero() || !b.End.After(b.Start) {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("range.invalid"), "bad range"))
		return
	}
	cam, ok := s.opt.Cameras.Camera(b.Camera)
	if !ok {
		cam = CameraInfo{ID: b.Camera}
	}
	ap, err := nativeOf(principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	object := fmt.Sprintf("%s %s – %s (MP4)", b.Camera, formatTime(b.Start, s.Zone()), formatTime(b.End, s.Zone()))
	fr, err := s.opt.Requests.ViewAccess(r.Context(), x.ID, access.WayPlayback, access.Camera{ID: cam.ID, Site: cam.Site},
		b.Start, b.End, object, actorOf(r), ap.Client.String())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	expires := s.clk.Now().Add(s.opt.ViewTTL)
	if fr.Until.Before(expires) {
		expires = fr.Until
	}
	fr.Until = expires
	// The data subject watches: the camera's privacy zones are masked
	// whoever shows the footage (zonesForOutsiders), refused before the
	// row when they cannot be.
	zones, err := s.zonesForOutsiders(cam.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	transcode := s.needsTranscode(r.Context(), cam.ID, b.Start, b.End)
	switch {
	case zones != nil:
		fr.Form, fr.Object = fr.Form+" · 마스킹", fr.Object+maskedSuffix
	case transcode:
		fr.Form, fr.Object = fr.Form+" · "+transcodedPlayback, fr.Object+transcodedSuffix
	}
	h, err := s.begin(r, fr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opt.Requests.Track(x.Receipt, h)
	s.grant(w, r, h, &view{session: principal(r).Session, camera: cam.ID,
		start: media.Time90k(b.Start), end: media.Time90k(b.End), expires: expires, transcode: transcode, zones: zones})
}

// createRequestStillView is a still frame (of a scheduled check) under a
// request's on-site grant: the still's camera and time must lie within
// the request's viewing.
func (s *Server) createRequestStillView(w http.ResponseWriter, r *http.Request) {
	const op = "web.createRequestStillView"
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.opt.Stills == nil {
		s.fail(w, r, errs.Errorf(op, errs.NotExist, "no stills"))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("still"), 10, 64)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("request.id"), err))
		return
	}
	st, err := s.opt.Stills.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, errs.Errorf(op, errs.Private, "no still %d", id))
		return
	}
	cam, ok := s.opt.Cameras.Camera(st.Camera)
	if !ok {
		cam = CameraInfo{ID: st.Camera}
	}
	ap, err := nativeOf(principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	object := fmt.Sprintf("%s 정지화상 %d (%s, JPEG)", cam.ID, st.ID, formatTime(st.RecordedAt, s.Zone()))
	fr, err := s.opt.Requests.ViewAccess(r.Context(), x.ID, access.WayStill, access.Camera{ID: cam.ID, Site: cam.Site},
		st.RecordedAt, st.RecordedAt, object, actorOf(r), ap.Client.String())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	expires := s.clk.Now().Add(s.opt.ViewTTL)
	if fr.Until.Before(expires) {
		expires = fr.Until
	}
	fr.Until = expires
	// The data subject watches: the zones are hidden whoever shows the
	// still (decision 54), filled in Go.
	zones := s.privacyZones(cam.ID)
	if len(zones) > 0 {
		fr.Form, fr.Object = fr.Form+" · 마스킹", fr.Object+maskedSuffix
	} else {
		zones = nil
	}
	h, err := s.begin(r, fr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opt.Requests.Track(x.Receipt, h)
	s.grant(w, r, h, &view{session: principal(r).Session, camera: cam.ID, still: st.ID, expires: expires, zones: zones})
}

// deleteRequestFootage deletes the request's range on each of its
// cameras: {"receipts": [destruction receipt ids]}.
func (s *Server) deleteRequestFootage(w http.ResponseWriter, r *http.Request) {
	onRequest(s, w, r, 0, bodyNone, func(x requests.Request, _ *struct{}) (any, error) {
		ids, err := s.opt.Requests.Delete(r.Context(), x.ID, actorOf(r))
		if err != nil {
			return nil, err
		}
		if ids == nil {
			ids = []string{}
		}
		return map[string]any{"receipt": x.Receipt, "receipts": ids}, nil
	})
}

// requestCopy makes the masked copy of a request for the person:
// {"specs": {"<camera>": <mask spec>}} for every camera of its viewing
// (an empty spec hands a camera over unmasked on purpose); the caller is
// the reviewer who checked the regions. Export's masked export goes
// through the gate (export on the site, the 반출 row with the request's
// number first); the ZIP is the answer, removed from the disk once open.
func (s *Server) requestCopy(w http.ResponseWriter, r *http.Request) {
	const op = "web.requestCopy"
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		Specs map[string]json.RawMessage `json:"specs"`
	}
	if err := decodeBody(r, 8<<20, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	specs := map[string]*mask.Spec{}
	for cam, raw := range b.Specs {
		sp, err := mask.Parse(raw)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		specs[cam] = sp
	}
	req, err := s.opt.Requests.CopyExport(r.Context(), x.ID, actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ap, err := nativeOf(principal(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	path, err := s.packageFile(op, "copy-")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.Remove(path)
	m, err := s.opt.Exporter.ExportMasked(r.Context(), export.GateOf(s.opt.Gate, ap), req,
		export.Masking{Specs: specs, Reviewer: principal(r).User}, path)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.opt.Requests.RecordCopy(r.Context(), x.ID, m.ID, m.LedgerSeq, actorOf(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendWrittenPackage(w, r, op, path, m)
}
