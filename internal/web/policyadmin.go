package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/registry"
)

// The policy routes: the draft (the registry rendered as the next
// version), the published versions and the diff between any two, the
// publication of the draft (what `gwanje policy publish` does), and the
// signs (안내판) and request form to print. The published policy itself
// stays on the public /policy routes.

// PolicyAdmin is what the policy routes need.
type PolicyAdmin struct {
	Store *policy.Store
	// Registry returns the registry the next version is rendered from.
	Registry func() (*registry.Registry, error)
	// Facts are the safety measures the running system takes, with those
	// the registry declares (policy.Facts.Declared).
	Facts func(reg *registry.Registry) policy.Facts
}

func (s *Server) policyRoutes() []route {
	pa := s.opt.Admin.Policy
	if pa == nil || pa.Store == nil || pa.Registry == nil {
		return nil
	}
	return []route{
		// The policy is changed with the registry, by who manages it.
		{pattern: "GET /api/policy", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.policyStatus)},
		{pattern: "GET /api/policy/draft", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.policyDraft)},
		{pattern: "GET /api/policy/diff", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.policyDiff)},
		{pattern: "POST /api/policy/publish", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.policyPublish)},
		// Signs and the request form are printed for the public: any
		// session may print them.
		{pattern: "GET /api/policy/sign", rule: ruleSession, h: http.HandlerFunc(s.policySign)},
		{pattern: "GET /api/policy/form", rule: ruleSession, h: http.HandlerFunc(s.policyForm)},
	}
}

type versionJSON struct {
	Number          int    `json:"number"`
	Announced       string `json:"announced"`
	Effective       string `json:"effective"`
	Summary         string `json:"summary,omitempty"`
	ImmediateReason string `json:"immediate_reason,omitempty"`
	PublishedAt     string `json:"published_at"`
	State           string `json:"state"` // current, pending, past
}

// draftJSON is the next version as the registry states it, and whether
// it may be published.
type draftJSON struct {
	Announced       string `json:"announced"` // today when the registry gives no date
	Effective       string `json:"effective"`
	Earliest        string `json:"earliest"` // the first effective date the notice period allows
	NoticeDays      int    `json:"notice_days"`
	ImmediateReason string `json:"immediate_reason,omitempty"`
	Summary         string `json:"summary,omitempty"`
	// Problem is the code of what stops publication ("" when none);
	// Measure names the promise nothing enforces (policy.unbacked).
	Problem string `json:"problem,omitempty"`
	Measure string `json:"measure,omitempty"`
	// Changed: the draft differs from the newest published version.
	Changed bool `json:"changed"`
}

type policyJSON struct {
	Versions []versionJSON       `json:"versions"` // newest first
	Draft    *draftJSON          `json:"draft,omitempty"`
	Drift    []registryChange    `json:"drift"` // the registry against the version in effect
	Sites    []map[string]string `json:"sites"` // for the sign download
}

// draftOf works out the dates of the next version as Publish will check
// them, so the page can say before publishing what would be refused.
func (s *Server) draftOf(reg *registry.Registry, last *policy.Version) *draftJSON {
	pa := s.opt.Admin.Policy
	loc := reg.Location()
	today := registry.DateOf(s.clk.Now().In(loc))
	rev := reg.Policy.Current()
	announced := rev.Announced
	if announced.IsZero() {
		announced = today
	}
	notice := max(pa.Store.NoticeDays, reg.Policy.Notice())
	earliest := announced.AddDays(notice)
	d := &draftJSON{Announced: announced.String(), Effective: rev.Effective.String(), Earliest: earliest.String(),
		NoticeDays: notice, ImmediateReason: rev.ImmediateReason, Summary: rev.Summary, Changed: true}
	doc := policy.Build(reg, s.facts(reg), policy.Options{})
	switch {
	case len(policy.Unbacked(reg, s.facts(reg))) > 0:
		d.Problem, d.Measure = "policy.unbacked", strings.Join(policy.Unbacked(reg, s.facts(reg)), ", ")
	case announced.Before(today):
		d.Problem = "policy.past_announcement"
	case rev.Effective.Before(earliest) && strings.TrimSpace(rev.ImmediateReason) == "":
		d.Problem = "policy.notice"
	}
	if last != nil {
		d.Changed = last.Document.Markdown() != doc.Markdown()
		if d.Problem == "" && !d.Changed {
			d.Problem = "policy.unchanged"
		}
		if d.Problem == "" && !last.EffectiveAt.Before(rev.Effective.Start(loc)) {
			d.Problem = "policy.order"
		}
	}
	return d
}

func (s *Server) facts(reg *registry.Registry) policy.Facts {
	if f := s.opt.Admin.Policy.Facts; f != nil {
		return f(reg)
	}
	return policy.Facts{}.Declared(reg)
}

func (s *Server) policyStatus(w http.ResponseWriter, r *http.Request) {
	out, err := s.policyState()
	if err != nil {
		s.fail(w, r, errs.E("web.policyStatus", err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// policyState is the published versions, the draft and the drift.
func (s *Server) policyState() (policyJSON, error) {
	pa := s.opt.Admin.Policy
	out := policyJSON{Versions: []versionJSON{}, Drift: []registryChange{}, Sites: []map[string]string{}}
	vs, err := pa.Store.Versions()
	if err != nil {
		return out, err
	}
	cur, _, _ := pa.Store.Current()
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		state := "past"
		switch {
		case cur != nil && v.Number == cur.Number:
			state = "current"
		case v.EffectiveAt.After(s.clk.Now()):
			state = "pending"
		}
		out.Versions = append(out.Versions, versionJSON{Number: v.Number, Announced: v.Announced, Effective: v.Effective,
			Summary: v.Summary, ImmediateReason: v.ImmediateReason, PublishedAt: s.timeText(v.PublishedAt), State: state})
	}
	reg, err := pa.Registry()
	if err == nil && reg != nil {
		var last *policy.Version
		if len(vs) > 0 {
			last = vs[len(vs)-1]
		}
		out.Draft = s.draftOf(reg, last)
		if cur != nil {
			for _, d := range policy.Drift(cur.Snapshot, policy.SnapshotOf(reg)) {
				out.Drift = append(out.Drift, registryChange{Field: d.Field, Old: d.Published, New: d.Live})
			}
		}
		for _, st := range reg.Sites {
			out.Sites = append(out.Sites, map[string]string{"id": st.ID, "name": st.Name})
		}
	}
	return out, nil
}

func (s *Server) registryForPolicy(r *http.Request) (*registry.Registry, error) {
	reg, err := s.opt.Admin.Policy.Registry()
	if err != nil || reg == nil {
		return nil, errs.E("web.policy", errs.NotExist, errs.Code("registry.none"), err)
	}
	return reg, nil
}

// sendDocument writes a rendered document: HTML with the policy's own
// inline style (as the public /policy routes send it), Markdown or PDF.
func sendDocument(w http.ResponseWriter, ctype, name string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	if strings.HasPrefix(ctype, "text/html") {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	} else if name != "" {
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	}
	w.Write(body)
}

// policyDraft renders the next version (?format=html|md|pdf).
func (s *Server) policyDraft(w http.ResponseWriter, r *http.Request) {
	const op = "web.policyDraft"
	reg, err := s.registryForPolicy(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	doc := policy.Build(reg, s.facts(reg), policy.Options{})
	switch f := r.URL.Query().Get("format"); f {
	case "", "html":
		b, err := doc.HTML()
		if err != nil {
			s.fail(w, r, errs.E(op, errs.Internal, err))
			return
		}
		sendDocument(w, "text/html; charset=utf-8", "", b)
	case "md":
		sendDocument(w, "text/markdown; charset=utf-8", "policy-draft.md", []byte(doc.Markdown()))
	case "pdf":
		var b bytes.Buffer
		if err := doc.PDF(&b); err != nil {
			s.fail(w, r, pdfError(op, err))
			return
		}
		sendDocument(w, "application/pdf", "policy-draft.pdf", b.Bytes())
	default:
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("policy.format"), "bad format"))
	}
}

// pdfError turns a failed PDF rendering into a coded error: a missing
// Korean font is the operator's to fix.
func pdfError(op string, err error) error {
	if errs.Is(err, errs.Unavailable) || errs.Is(err, errs.NotExist) {
		return errs.E(op, errs.Unavailable, errs.Code("ledger.font"), err)
	}
	return errs.E(op, err)
}

// policyDiff compares two versions' text (?from=N&to=M; to may be
// "draft"; from defaults to the version before to).
func (s *Server) policyDiff(w http.ResponseWriter, r *http.Request) {
	const op = "web.policyDiff"
	pa := s.opt.Admin.Policy
	text := func(v string) (string, int, error) {
		if v == "draft" {
			reg, err := s.registryForPolicy(r)
			if err != nil {
				return "", 0, err
			}
			vs, err := pa.Store.Versions()
			if err != nil {
				return "", 0, err
			}
			return policy.Build(reg, s.facts(reg), policy.Options{}).Markdown(), len(vs) + 1, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", 0, errs.E(op, errs.Invalid, errs.Code("policy.version"), errs.Params{"value": shorten(v, 20)}, "bad version")
		}
		ver, err := pa.Store.Version(n)
		if err != nil {
			return "", 0, errs.E(op, errs.NotExist, errs.Code("policy.version"), errs.Params{"value": v}, err)
		}
		return ver.Document.Markdown(), n, nil
	}
	q := r.URL.Query()
	newer, n, err := text(q.Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	older := ""
	from := q.Get("from")
	if from == "" && n > 1 {
		from = strconv.Itoa(n - 1)
	}
	if from != "" {
		if older, _, err = text(from); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": q.Get("to"), "diff": policy.Diff(older, newer)})
}

// policyPublish publishes the draft as the next version (the notice
// period and the order of effective dates are the store's rules), then
// records it in the ledger (registry-change, by the store).
func (s *Server) policyPublish(w http.ResponseWriter, r *http.Request) {
	const op = "web.policyPublish"
	pa := s.opt.Admin.Policy
	if !s.scope(r, PermManageRegistry).has("*") {
		s.fail(w, r, errs.E(op, errs.Permission, errs.Code("registry.whole"), "publication needs every site"))
		return
	}
	reg, err := s.registryForPolicy(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.adm.policy.Lock()
	defer s.adm.policy.Unlock()
	vs, err := pa.Store.Versions()
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	var last *policy.Version
	if len(vs) > 0 {
		last = vs[len(vs)-1]
	}
	d := s.draftOf(reg, last)
	params := errs.Params{"announced": d.Announced, "effective": d.Effective, "earliest": d.Earliest,
		"days": strconv.Itoa(d.NoticeDays), "today": registry.DateOf(s.clk.Now().In(reg.Location())).String(),
		"measure": d.Measure}
	if d.Problem != "" {
		kind := errs.Invalid
		if d.Problem == "policy.unchanged" || d.Problem == "policy.order" {
			kind = errs.Conflict
		}
		s.fail(w, r, errs.E(op, kind, errs.Code(d.Problem), params, "refused before publishing"))
		return
	}
	// The store writes the version once, then its 관리대장 row naming
	// the publisher (policy.Store.Ledger).
	v, err := pa.Store.PublishAs(r.Context(), reg, s.facts(reg), principal(r).User)
	if err != nil {
		if v != nil {
			// Published, but its ledger row failed: said loudly.
			s.log.Error("policy published but its ledger row failed", "version", v.Number, "err", err)
			s.fail(w, r, errs.E(op, errs.Unavailable, err))
			return
		}
		if c := errs.CodeOf(err); c == errs.KindOf(err).Code() {
			// No code of its own: the kind says which rule.
			code := errs.Code("policy.invalid")
			switch errs.KindOf(err) {
			case errs.Exist:
				code = "policy.unchanged"
			case errs.Conflict:
				code = "policy.order"
			}
			err = errs.E(op, code, params, err)
		}
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"version": versionJSON{Number: v.Number, Announced: v.Announced,
		Effective: v.Effective, Summary: v.Summary, ImmediateReason: v.ImmediateReason,
		PublishedAt: s.timeText(v.PublishedAt), State: "pending"}})
}

// policySign is the A4 안내판 of a site (?site=ID), as PDF.
func (s *Server) policySign(w http.ResponseWriter, r *http.Request) {
	const op = "web.policySign"
	reg, err := s.registryForPolicy(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	site := r.URL.Query().Get("site")
	if _, ok := reg.Site(site); !ok {
		s.fail(w, r, errs.E(op, errs.NotExist, errs.Code("site.unknown"), errs.Params{"value": shorten(site, 40)}, "no site"))
		return
	}
	var b bytes.Buffer
	if err := policy.SignPDF(reg, site, &b); err != nil {
		s.fail(w, r, pdfError(op, err))
		return
	}
	sendDocument(w, "application/pdf", "sign-"+site+".pdf", b.Bytes())
}

// policyForm is the request form (별지 제1호 청구서), as PDF.
func (s *Server) policyForm(w http.ResponseWriter, r *http.Request) {
	const op = "web.policyForm"
	reg, err := s.registryForPolicy(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := policy.RequestFormPDF(reg, &b); err != nil {
		s.fail(w, r, pdfError(op, err))
		return
	}
	sendDocument(w, "application/pdf", "request-form.pdf", b.Bytes())
}

func itoa(n int) string { return strconv.Itoa(n) }
