package web

import (
	"html/template"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
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
	return []route{
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
	}
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
	cal, now := s.opt.Requests.Calendar(), s.clk.Now()
	out := []requestView{}
	for _, x := range rs {
		if !sc.has(x.Site) {
			continue
		}
		out = append(out, requestView{ID: x.ID, Receipt: x.Receipt, Types: x.Types, From: x.From, To: x.To, Site: x.Site,
			Cameras: x.Cameras, Channel: x.Channel, Received: x.Received, Due: x.Due, Urgency: string(cal.Urgency(x, now)),
			PostponeReason: x.PostponeReason, State: x.State})
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

func (s *Server) postponeRequest(w http.ResponseWriter, r *http.Request) {
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		Date   string `json:"date"` // 2006-01-02, in the institution's zone
		Reason string `json:"reason"`
	}
	if err := decodeBody(r, 4<<10, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	day, err := time.ParseInLocation("2006-01-02", b.Date, s.Zone())
	if err != nil {
		s.fail(w, r, errs.E("web.postponeRequest", errs.Invalid, errs.Code("requests.time"), errs.Params{"field": "date"}, err))
		return
	}
	x, err = s.opt.Requests.Postpone(r.Context(), x.ID, day, b.Reason, principal(r).User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt": x.Receipt, "due": x.Due})
}

func (s *Server) requestIdentity(w http.ResponseWriter, r *http.Request) {
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		Method string `json:"method"`
		Proxy  string `json:"proxy"`
	}
	if err := decodeBody(r, 2<<10, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if x, err = s.opt.Requests.RecordIdentity(r.Context(), x.ID, b.Method, b.Proxy, principal(r).User); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt": x.Receipt, "identity_by": x.IdentityBy, "identity_at": x.IdentityAt})
}

func (s *Server) closeRequest(w http.ResponseWriter, r *http.Request) {
	x, err := s.staffRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if x, err = s.opt.Requests.Close(r.Context(), x.ID, principal(r).User); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt": x.Receipt, "state": x.State})
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
