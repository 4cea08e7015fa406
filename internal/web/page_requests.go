package web

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/requests"
)

// The staff's pages of data-subject requests (docs/guide/web.md): the list
// with due dates and urgency (requests), the intake of a request taken at
// a visit, by phone or by mail (requests-intake, on POST
// /api/requests/intake), and one request with its workflow
// (requests-view?id=N: identity check, postponement, decision, fulfilment,
// closing, and the notices as PDF). Each shows only the requests of the
// sites the reader handles requests for; a request of no named site (a
// described place) is for who handles them everywhere. ui/requests.js
// sends the forms to the API.
func init() {
	AddPage(&Page{Name: "requests", Title: "ui.req.title", Perm: PermHandleRequests, Menu: 45,
		Scripts: []string{"requests.js"}, Data: loadRequestsPage})
	AddPage(&Page{Name: "requests-intake", Title: "ui.req.intake.title", Perm: PermHandleRequests,
		Scripts: []string{"requests.js"}, Data: loadRequestIntake})
	AddPage(&Page{Name: "requests-view", Title: "ui.req.view.title", Perm: PermHandleRequests,
		Scripts: []string{"requests.js"}, Data: loadRequestView})
}

// requestPageRoutes are the pages' own API: the notices as PDF.
func (s *Server) requestPageRoutes() []route {
	if s.opt.Requests == nil {
		return nil
	}
	return []route{
		{pattern: "GET /api/requests/{rid}/notice", rule: rulePerm, perm: PermHandleRequests,
			h: http.HandlerFunc(s.requestNotice)},
	}
}

// reqRow is a request as the list and the home page show it.
type reqRow struct {
	requests.Request
	TypeKeys []string // catalogue keys of the types
	SiteName string
	LastDay  time.Time // the last day of the answer's period (Due is the instant after)
	Urgency  string    // requests.Urgency
	Checked  bool      // identity checked
}

func (s *Server) reqRowOf(x requests.Request, now time.Time, sites map[string]string) reqRow {
	row := reqRow{Request: x, SiteName: sites[x.Site], LastDay: x.Due.Add(-time.Nanosecond),
		Urgency: string(s.opt.Requests.Calendar().Urgency(x, now)), Checked: !x.IdentityAt.IsZero()}
	if row.SiteName == "" {
		row.SiteName = x.Site
	}
	for _, t := range x.Types {
		row.TypeKeys = append(row.TypeKeys, "requests.type."+string(t))
	}
	return row
}

// requestsInScope lists the requests (open, or all) of the sites the
// reader handles requests for, as rows: open first, the earliest due
// first; closed ones after, the latest closed first.
func (s *Server) requestsInScope(r *http.Request, all bool) ([]reqRow, error) {
	rs, err := s.opt.Requests.List(r.Context(), all)
	if err != nil {
		return nil, err
	}
	sc := s.scope(r, PermHandleRequests)
	now, sites := s.clk.Now(), s.siteNames()
	var out []reqRow
	for _, x := range rs {
		if sc.has(x.Site) {
			out = append(out, s.reqRowOf(x, now, sites))
		}
	}
	slices.SortStableFunc(out, func(a, b reqRow) int {
		ac, bc := a.State == requests.Closed, b.State == requests.Closed
		switch {
		case ac != bc && ac:
			return 1
		case ac != bc:
			return -1
		case ac:
			return b.ClosedAt.Compare(a.ClosedAt)
		}
		return a.Due.Compare(b.Due)
	})
	return out, nil
}

type requestsPageData struct {
	Available bool
	All       bool
	Rows      []reqRow
	DueSoon   int
	Overdue   int
}

func loadRequestsPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &requestsPageData{Available: s.opt.Requests != nil, All: r.URL.Query().Get("all") == "1"}
	if !d.Available {
		return d, nil
	}
	rows, err := s.requestsInScope(r, d.All)
	if err != nil {
		return nil, err
	}
	d.Rows = rows
	for _, x := range rows {
		switch requests.Urgency(x.Urgency) {
		case requests.DueSoon:
			d.DueSoon++
		case requests.Overdue:
			d.Overdue++
		}
	}
	return d, nil
}

// homeRequests are the open requests due soon or overdue that the reader
// handles, for the home page; seen is false for who handles none.
func (s *Server) homeRequests(r *http.Request, pc *PageContext) (rows []reqRow, seen bool) {
	if s.opt.Requests == nil || pc.User == nil || !pc.Can(PermHandleRequests) {
		return nil, false
	}
	all, err := s.requestsInScope(r, false)
	if err != nil {
		s.log.Warn("home: requests", "err", err)
		return nil, true
	}
	for _, x := range all {
		if u := requests.Urgency(x.Urgency); u == requests.DueSoon || u == requests.Overdue {
			rows = append(rows, x)
		}
	}
	return rows, true
}

type intakeSite struct {
	ID, Name string
	Cameras  []option
}

type requestIntakeData struct {
	Available bool
	Sites     []intakeSite // the sites and cameras the reader handles requests for
	Anywhere  bool         // the reader handles requests of every site (a described place)
	Types     []string
	MaxHours  int
	Now       string // the institution's now, for the period's max
}

func loadRequestIntake(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &requestIntakeData{Available: s.opt.Requests != nil, MaxHours: int(requests.MaxSpan.Hours()),
		Now: pc.Now.In(pc.Zone).Format("2006-01-02T15:04")}
	for _, t := range requests.Types {
		d.Types = append(d.Types, string(t))
	}
	if !d.Available {
		return d, nil
	}
	sc := s.scope(r, PermHandleRequests)
	d.Anywhere = sc.has("")
	idx := map[string]int{}
	for _, c := range s.opt.Cameras.List() {
		if !sc.has(c.Site) {
			continue
		}
		i, ok := idx[c.Site]
		if !ok {
			i = len(d.Sites)
			idx[c.Site] = i
			d.Sites = append(d.Sites, intakeSite{ID: c.Site, Name: siteLabel(c)})
		}
		d.Sites[i].Cameras = append(d.Sites[i].Cameras, option{Value: c.ID, Label: c.Name})
	}
	return d, nil
}

type requestViewData struct {
	Available bool
	Row       reqRow
	Personal  *requests.Personal // nil once forgotten
	Cameras   []string           // the cameras' names
	Today     string
	MinDate   string // the earliest date a postponement may name: the day after the current last day
	Open      bool
	Proxy     bool // the requester is not the data subject: proxy documents are needed
	Refusal   bool // a 연기·거절 통지서 can be made (postponed, or a type refused or partly)

	// The workflow after intake (internal/web/requests.go's API).
	NameCameras []intakeSite // a described place: the cameras the reader may name
	Decision    []decisionRow
	DecisionBy  string
	DecisionAt  time.Time
	DecisionFor []string // the types to decide (no decision yet)
	Grounds     []string
	Fulfilments []fulfilmentRow
	CanExist    bool // the 존재확인 is granted and not yet answered
	CanGrant    bool // the 열람 is granted: an on-site viewing may be granted
	ViewUntil   time.Time
	Viewing     bool // an on-site viewing grant runs now
	ViewCameras []option
	ViewFrom    string // the period as datetime-local values in the zone
	ViewTo      string
	CanDelete   bool // the 삭제 is granted and not yet done
	AnswerDraft string
}

type decisionRow struct {
	TypeKey, OutcomeKey, GroundKey string
	Outcome                        string
	Note                           string
}

type fulfilmentRow struct {
	requests.Fulfilment
	TypeKey string
}

func loadRequestView(s *Server, r *http.Request, pc *PageContext) (any, error) {
	const op = "web.loadRequestView"
	d := &requestViewData{Available: s.opt.Requests != nil, Today: pc.Now.In(pc.Zone).Format(time.DateOnly)}
	if !d.Available {
		return d, nil
	}
	x, err := s.requestByID(r, r.URL.Query().Get("id"))
	if k := errs.KindOf(err); k == errs.Private || k == errs.NotExist {
		return nil, errs.E(op, errs.NotExist, errs.Code("ui.error.not_found"), err)
	} else if err != nil {
		return nil, errs.E(op, err)
	}
	d.Row = s.reqRowOf(x, pc.Now, s.siteNames())
	d.Open = x.State != requests.Closed
	d.MinDate = d.Row.LastDay.In(pc.Zone).AddDate(0, 0, 1).Format(time.DateOnly)
	d.Refusal = !x.Postponed.IsZero()
	for _, c := range x.Cameras {
		if ci, ok := s.opt.Cameras.Camera(c); ok {
			d.Cameras = append(d.Cameras, ci.Name)
		} else {
			d.Cameras = append(d.Cameras, c)
		}
	}
	p, ok, err := s.opt.Requests.Personal(r.Context(), x.ID)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if ok {
		d.Personal = &p
		rel := strings.TrimSpace(p.Requester.Relation)
		d.Proxy = rel != "본인" && !strings.EqualFold(rel, "self")
	}
	s.workflowOf(r, pc, x, d)
	return d, nil
}

// workflowOf fills the detail page's workflow: the cameras to name, the
// decision made or to make, the answers given or possible.
func (s *Server) workflowOf(r *http.Request, pc *PageContext, x requests.Request, d *requestViewData) {
	for _, g := range requests.Grounds {
		d.Grounds = append(d.Grounds, string(g))
	}
	if len(x.Cameras) == 0 && d.Open {
		sc := s.scope(r, PermHandleRequests)
		idx := map[string]int{}
		for _, c := range s.opt.Cameras.List() {
			if !sc.has(c.Site) || (x.Site != "" && c.Site != x.Site) {
				continue
			}
			i, ok := idx[c.Site]
			if !ok {
				i = len(d.NameCameras)
				idx[c.Site] = i
				d.NameCameras = append(d.NameCameras, intakeSite{ID: c.Site, Name: siteLabel(c)})
			}
			d.NameCameras[i].Cameras = append(d.NameCameras[i].Cameras, option{Value: c.ID, Label: c.Name})
		}
	}
	done := func(t requests.Type) bool {
		return slices.ContainsFunc(x.Fulfilments, func(f requests.Fulfilment) bool { return f.Type == t })
	}
	for _, f := range x.Fulfilments {
		d.Fulfilments = append(d.Fulfilments, fulfilmentRow{Fulfilment: f, TypeKey: "requests.type." + string(f.Type)})
		if f.Type == requests.View && f.Until.After(d.ViewUntil) {
			d.ViewUntil = f.Until
		}
	}
	var draft []string
	if dec := x.Decision; dec != nil {
		d.DecisionBy, d.DecisionAt = dec.By, dec.At
		for _, t := range dec.Types {
			row := decisionRow{TypeKey: "requests.type." + string(t.Type), Outcome: string(t.Outcome),
				OutcomeKey: "requests.outcome." + string(t.Outcome), Note: t.Note}
			if t.Ground != "" {
				row.GroundKey = "requests.ground." + string(t.Ground)
			}
			d.Decision = append(d.Decision, row)
			if t.Outcome != requests.Approved {
				d.Refusal = true
			}
		}
		d.CanExist = d.Open && dec.Granted(requests.Existence) && !done(requests.Existence)
		d.CanGrant = d.Open && dec.Granted(requests.View) && len(x.Cameras) > 0
		d.CanDelete = d.Open && dec.Granted(requests.Deletion) && !done(requests.Deletion)
		for _, t := range requests.Types {
			td, ok := dec.Of(t)
			if !ok {
				continue
			}
			name := requests.TypeNames([]requests.Type{t})
			switch {
			case td.Outcome == requests.Refused:
				draft = append(draft, name+": 거절 (연기·거절 통지서로 알립니다)")
			case t == requests.Existence:
				for _, f := range x.Fulfilments {
					if f.Type == requests.Existence && f.Exists {
						draft = append(draft, name+": 청구하신 기간의 영상정보가 있습니다.")
					} else if f.Type == requests.Existence {
						draft = append(draft, name+": 청구하신 기간의 영상정보가 없습니다.")
					}
				}
			case t == requests.View:
				draft = append(draft, name+": 청구하신 기간과 장소의 영상정보를 아래 일시와 장소에서 열람하실 수 있습니다.")
			case t == requests.Deletion && done(requests.Deletion):
				draft = append(draft, name+": 청구하신 기간의 영상정보를 복원할 수 없도록 파기했습니다.")
			}
		}
	} else if d.Open {
		for _, t := range x.Types {
			d.DecisionFor = append(d.DecisionFor, string(t))
		}
	}
	d.AnswerDraft = strings.Join(draft, "\n")
	d.Viewing = d.Open && d.ViewUntil.After(pc.Now)
	if d.CanGrant {
		for _, c := range x.Cameras {
			name := c
			if ci, ok := s.opt.Cameras.Camera(c); ok {
				name = ci.Name
			}
			d.ViewCameras = append(d.ViewCameras, option{Value: c, Label: name})
		}
		d.ViewFrom = x.From.In(pc.Zone).Format("2006-01-02T15:04:05")
		d.ViewTo = x.To.In(pc.Zone).Format("2006-01-02T15:04:05")
	}
}

// requestByID is request id (a path's {rid} or a page's ?id=) if the
// reader handles requests on its site; otherwise, and for an id that is
// none, it does not exist for them (the page says "not found").
func (s *Server) requestByID(r *http.Request, v string) (requests.Request, error) {
	const op = "web.requestByID"
	notFound := errs.E(op, errs.Private, "no such request for this user")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return requests.Request{}, notFound
	}
	x, ok, err := s.opt.Requests.Get(r.Context(), id)
	if err != nil {
		return requests.Request{}, err
	}
	if !ok || !s.scope(r, PermHandleRequests).has(x.Site) {
		return requests.Request{}, notFound
	}
	return x, nil
}

// issuer is who sends a notice, in the registry's words: the
// institution, the department and phone of the 관리책임자 who covers
// the request's site (the first listed), requests.contact, the signatory.
func (s *Server) issuer(site string) requests.Issuer {
	var reg *registry.Registry
	if ra := s.opt.Admin.Registry; ra != nil && ra.Running != nil {
		reg = ra.Running()
	}
	if reg == nil {
		return requests.Issuer{Organization: s.opt.Admin.Institution}
	}
	is := requests.Issuer{Organization: reg.Organization.Name, Contact: reg.Requests.Contact,
		Signatory: reg.Organization.Signatory}
	for _, role := range []registry.Role{registry.Manager, registry.OperationsManager, registry.GeneralManager} {
		for i := range reg.Personnel {
			p := &reg.Personnel[i]
			if p.Role == role && (site == "" || p.Covers(site)) && (p.Department != "" || p.Phone != "") {
				is.Department, is.Phone = p.Department, p.Phone
				return is
			}
		}
	}
	return is
}

// requestNotice makes a notice of the path's request as a PDF: ?kind=answer
// (열람 등 통지서: answer, one line per type decided; when and where of a
// viewing on site) or ?kind=refusal (연기·거절 통지서: the postponement and
// its reason, with the ways to object). It is made when asked and kept
// nowhere: the addressee's name is read from the sealed record.
func (s *Server) requestNotice(w http.ResponseWriter, r *http.Request) {
	const op = "web.requestNotice"
	x, err := s.requestByID(r, r.PathValue("rid"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	n := requests.Notice{Kind: requests.NoticeKind(q.Get("kind")), Issuer: s.issuer(x.Site), Request: x,
		Issued: s.clk.Now(), Zone: s.Zone(), When: strings.TrimSpace(q.Get("when")), Where: strings.TrimSpace(q.Get("where"))}
	for _, l := range strings.Split(q.Get("answer"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			n.Answer = append(n.Answer, l)
		}
	}
	if len([]rune(q.Get("answer"))) > requests.MaxPurpose {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("requests.too_long"),
			errs.Params{"field": "answer", "max": strconv.Itoa(requests.MaxPurpose)}, "answer too long"))
		return
	}
	if n.Kind == requests.NoticeRefusal {
		n.Reason = x.PostponeReason
		if reason := refusalReason(x.Decision); reason != "" {
			n.Refused, n.Reason = true, reason
		}
	}
	p, ok, err := s.opt.Requests.Personal(r.Context(), x.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, errs.E(op, errs.Conflict, errs.Code("requests.forgotten"), "the request's personal data is forgotten"))
		return
	}
	n.Requester, n.Place = p.Requester.Name, p.Place
	if len(x.Cameras) > 0 {
		var names []string
		for _, c := range x.Cameras {
			if ci, ok := s.opt.Cameras.Camera(c); ok {
				names = append(names, ci.Name+" ("+siteLabel(ci)+")")
			} else {
				names = append(names, c)
			}
		}
		n.Place = strings.Join(names, ", ")
	}
	var b bytes.Buffer
	if err := n.PDF(&b); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("data-subject request's notice made", "request", x.Receipt, "kind", string(n.Kind), "by", principal(r).User)
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="notice-`+x.Receipt+`-`+string(n.Kind)+`.pdf"`)
	w.Write(b.Bytes())
}

// refusalReason is the reason a decision gives for what it refuses or
// answers only in part, one line per type, in the notice's words; "" when
// it refuses nothing.
func refusalReason(dec *requests.Decision) string {
	if dec == nil {
		return ""
	}
	var lines []string
	for _, t := range requests.Types {
		td, ok := dec.Of(t)
		if !ok || td.Outcome == requests.Approved {
			continue
		}
		what := "거절"
		if td.Outcome == requests.Partly {
			what = "일부 거절"
		}
		l := requests.TypeNames([]requests.Type{t}) + " " + what + ": " + requests.GroundKorean(td.Ground)
		if td.Note != "" {
			l += " — " + td.Note
		}
		lines = append(lines, l)
	}
	if len(lines) > 0 && dec.Note != "" {
		lines = append(lines, dec.Note)
	}
	return strings.Join(lines, "\n")
}
