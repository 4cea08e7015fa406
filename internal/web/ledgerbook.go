package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/ledger/report"
)

// The 관리대장 routes: query with filters, the verification of the chain,
// the download as CSV, XLSX or PDF (internal/ledger/report), and the
// 관리책임자's periodic sign-off, itself a ledger row (kind sign-off).
// Every read is scoped to the sites the reader holds read-ledger for.

// LedgerBook is what the 관리대장 routes need of the ledger;
// *ledger.Ledger implements it.
type LedgerBook interface {
	Query(ctx context.Context, f ledger.Filter) ([]ledger.Entry, error)
	Verify(ctx context.Context) (ledger.Report, error)
}

func (s *Server) ledgerRoutes() []route {
	if s.opt.Admin.Book == nil {
		return nil
	}
	return []route{
		{pattern: "GET /api/ledger", rule: rulePerm, perm: PermReadLedger, h: http.HandlerFunc(s.ledgerList)},
		{pattern: "GET /api/ledger/export", rule: rulePerm, perm: PermReadLedger, h: http.HandlerFunc(s.ledgerExport)},
		{pattern: "GET /api/ledger/verify", rule: rulePerm, perm: PermReadLedger, h: http.HandlerFunc(s.ledgerVerify)},
		// The sign-off is the 관리책임자's: read-ledger for the route,
		// approve-provision for the site, checked by the handler.
		{pattern: "POST /api/ledger/signoffs", rule: rulePerm, perm: PermReadLedger, h: http.HandlerFunc(s.ledgerSignOff)},
	}
}

// ledgerQuery is a parsed query of the 관리대장.
type ledgerQuery struct {
	filter   ledger.Filter
	from, to time.Time // the days asked for, [from, to)
	site     string
	camera   string
	person   string // part of the actor's or party's name, any case
}

const maxLedgerPer = 500

// parseLedgerQuery reads kind (comma-separated names, or "official"),
// from and to (days in the institution's zone, to inclusive), site,
// camera, person and ref (a request's receipt or a letter number, exact).
func (s *Server) parseLedgerQuery(r *http.Request) (ledgerQuery, error) {
	const op = "web.ledgerQuery"
	v := r.URL.Query()
	var q ledgerQuery
	for _, k := range strings.Split(v.Get("kind"), ",") {
		k = strings.TrimSpace(k)
		switch k {
		case "":
			continue
		case "official":
			// The official 관리대장 with its sign-offs.
			for _, kk := range ledger.Kinds() {
				if kk.Official() || kk == ledger.SignOff {
					q.filter.Kinds = append(q.filter.Kinds, kk)
				}
			}
			continue
		}
		kk, err := ledger.ParseKind(k)
		if err != nil {
			return q, errs.E(op, errs.Invalid, errs.Code("ledger.kind"), errs.Params{"value": shorten(k, 40)}, err)
		}
		q.filter.Kinds = append(q.filter.Kinds, kk)
	}
	var err error
	if d := v.Get("from"); d != "" {
		if q.from, err = s.parseDay(d); err != nil {
			return q, err
		}
	}
	if d := v.Get("to"); d != "" {
		if q.to, err = s.parseDay(d); err != nil {
			return q, err
		}
		q.to = q.to.AddDate(0, 0, 1) // the whole last day
	}
	if !q.from.IsZero() && !q.to.IsZero() && !q.to.After(q.from) {
		return q, errs.E(op, errs.Invalid, errs.Code("date.order"), "to before from")
	}
	q.filter.From, q.filter.To = q.from, q.to
	q.site = v.Get("site")
	q.filter.Site = q.site
	q.camera = v.Get("camera")
	q.person = strings.ToLower(strings.TrimSpace(v.Get("person")))
	q.filter.Ref = strings.TrimSpace(v.Get("ref"))
	return q, nil
}

// entries runs q and keeps what the reader may see (readable). Oldest
// first.
func (s *Server) entries(r *http.Request, q ledgerQuery) ([]ledger.Entry, error) {
	if q.site != "" && !s.scope(r, PermReadLedger).has(q.site) {
		// A site the reader may not read looks like one with no rows.
		return nil, nil
	}
	es, err := s.opt.Admin.Book.Query(r.Context(), q.filter)
	if err != nil {
		return nil, err
	}
	sc := s.scope(r, PermReadLedger)
	out := es[:0]
	for _, e := range es {
		if !s.readable(sc, &e) {
			continue
		}
		if q.camera != "" && !slices.Contains(e.Cameras, q.camera) {
			continue
		}
		if q.person != "" && !strings.Contains(strings.ToLower(e.Actor), q.person) &&
			!strings.Contains(strings.ToLower(e.Party), q.person) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// readable reports whether the reader may see e: a row of a site to who
// reads that site's 관리대장; a row of no site that names cameras (a
// hold, say) to who reads the 관리대장 of every camera's site; any other
// row of no site only to who reads every site's.
func (s *Server) readable(sc *scope, e *ledger.Entry) bool {
	if e.Site != "" || len(e.Cameras) == 0 {
		return sc.has(e.Site)
	}
	for _, id := range e.Cameras {
		c, ok := s.opt.Cameras.Camera(id)
		if !ok || !sc.has(c.Site) {
			if !sc.has("*") {
				return false
			}
		}
	}
	return true
}

// entryJSON is a ledger row as the API shows it; times are in the
// institution's zone (with their offset).
type entryJSON struct {
	Seq             uint64   `json:"seq"`
	Time            string   `json:"time"`
	Kind            string   `json:"kind"`
	Category        string   `json:"category,omitempty"`
	Actor           string   `json:"actor,omitempty"`
	Role            string   `json:"role,omitempty"`
	Client          string   `json:"client,omitempty"`
	Site            string   `json:"site,omitempty"`
	Cameras         []string `json:"cameras,omitempty"`
	From            string   `json:"from,omitempty"`
	To              string   `json:"to,omitempty"`
	Object          string   `json:"object,omitempty"`
	PurposeCategory string   `json:"purpose_category,omitempty"`
	Purpose         string   `json:"purpose,omitempty"`
	Party           string   `json:"party,omitempty"`
	LegalBasis      string   `json:"legal_basis,omitempty"`
	Form            string   `json:"form,omitempty"`
	Period          string   `json:"period,omitempty"`
	Detail          string   `json:"detail,omitempty"`
	Ref             string   `json:"ref,omitempty"`
}

func (s *Server) timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.zone()).Format(time.RFC3339)
}

func (s *Server) toEntryJSON(e ledger.Entry) entryJSON {
	return entryJSON{Seq: e.Seq, Time: s.timeText(e.Time), Kind: e.Kind.String(), Category: string(e.Kind.Category()),
		Actor: e.Actor, Role: e.Role, Client: e.Client, Site: e.Site, Cameras: e.Cameras,
		From: s.timeText(e.From), To: s.timeText(e.To), Object: e.Object, PurposeCategory: e.PurposeCategory,
		Purpose: e.Purpose, Party: e.Party, LegalBasis: e.LegalBasis, Form: e.Form, Period: e.Period, Detail: e.Detail, Ref: e.Ref}
}

// ledgerPage is the answer of GET /api/ledger.
type ledgerPage struct {
	Entries []entryJSON `json:"entries"`
	Total   int         `json:"total"`
	Page    int         `json:"page"`
	Per     int         `json:"per"`
	Zone    string      `json:"zone"`
}

// ledgerList serves one page of the matching rows, newest first
// (?page=1&per=50).
func (s *Server) ledgerList(w http.ResponseWriter, r *http.Request) {
	const op = "web.ledgerList"
	q, err := s.parseLedgerQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, per := 1, 50
	if v := r.URL.Query().Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("request.page"), "bad page"))
			return
		}
	}
	if v := r.URL.Query().Get("per"); v != "" {
		if per, err = strconv.Atoi(v); err != nil || per < 1 || per > maxLedgerPer {
			s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("request.per"), errs.Params{"max": strconv.Itoa(maxLedgerPer)}, "bad per"))
			return
		}
	}
	es, err := s.entries(r, q)
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	out := ledgerPage{Entries: []entryJSON{}, Total: len(es), Page: page, Per: per, Zone: s.zone().String()}
	// Newest first: page 1 ends at the last row.
	hi := len(es) - (page-1)*per
	for i := hi - 1; i >= 0 && i >= hi-per; i-- {
		out.Entries = append(out.Entries, s.toEntryJSON(es[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// ledgerExport downloads the matching rows as the official register
// (?format=csv|xlsx|pdf), oldest first.
func (s *Server) ledgerExport(w http.ResponseWriter, r *http.Request) {
	const op = "web.ledgerExport"
	f, err := report.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("ledger.format"), err))
		return
	}
	q, err := s.parseLedgerQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	es, err := s.entries(r, q)
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	meta := report.Meta{Institution: s.opt.Admin.Institution, Site: q.site, From: q.from, To: q.to, Generated: s.clk.Now(), Zone: s.Zone()}
	// Built in memory first, so a failure is still an error response
	// rather than half a file.
	var b bytes.Buffer
	if err := report.Write(&b, f, es, meta, s.opt.Admin.Font); err != nil {
		if f == report.PDF && errs.Is(err, errs.NotExist) {
			err = errs.E(op, errs.Unavailable, errs.Code("ledger.font"), err)
		}
		s.fail(w, r, errs.E(op, err))
		return
	}
	ctype := map[report.Format]string{
		report.CSV:  "text/csv; charset=utf-8",
		report.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		report.PDF:  "application/pdf",
	}[f]
	name := "gwanje-ledger"
	if !q.from.IsZero() {
		name += "-" + q.from.In(s.zone()).Format("20060102")
	}
	if !q.to.IsZero() {
		name += "-" + q.to.Add(-time.Nanosecond).In(s.zone()).Format("20060102")
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+"."+string(f)))
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

// verifyCache keeps the last verification of the chain, so the page shows
// it (and when it ran) without recomputing the chain on every load.
type verifyCache struct {
	mu  sync.Mutex // one verification at a time
	rep ledger.Report
	at  time.Time
	err error
}

// verifyJSON is the answer of GET /api/ledger/verify.
type verifyJSON struct {
	OK            bool   `json:"ok"`
	Entries       uint64 `json:"entries"`
	LastSeq       uint64 `json:"last_seq"`
	SignedThrough uint64 `json:"signed_through"`
	Checkpoints   int    `json:"checkpoints"`
	External      int    `json:"external"`
	// The first damaged entry and what was done to it (edited, missing,
	// inserted, reordered, truncated, bad checkpoint).
	ProblemSeq    uint64 `json:"problem_seq,omitempty"`
	ProblemDamage string `json:"problem_damage,omitempty"`
	VerifiedAt    string `json:"verified_at"`
	Fresh         bool   `json:"fresh"` // verified for this request
	// Anchored: against a trusted key from outside the data directory
	// (ledger.trusted_public_key or trusted_fingerprint), not gwanje's own.
	Anchored bool `json:"anchored"`
}

func (s *Server) verifyAge() time.Duration {
	if s.opt.Admin.VerifyMaxAge > 0 {
		return s.opt.Admin.VerifyMaxAge
	}
	return 10 * time.Minute
}

// verified returns the last verification if it is younger than the
// verify age (and fresh is false), else verifies the chain now.
func (s *Server) verified(ctx context.Context, fresh bool) (ledger.Report, time.Time, bool, error) {
	c := &s.adm.verify
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.clk.Now()
	if !fresh && !c.at.IsZero() && c.err == nil && now.Sub(c.at) < s.verifyAge() {
		return c.rep, c.at, false, nil
	}
	rep, err := s.opt.Admin.Book.Verify(ctx)
	if err != nil {
		return rep, now, true, err
	}
	c.rep, c.at, c.err = rep, now, nil
	return rep, now, true, nil
}

// ledgerVerify reports whether the chain is intact (?fresh=1 verifies now).
func (s *Server) ledgerVerify(w http.ResponseWriter, r *http.Request) {
	rep, at, fresh, err := s.verified(r.Context(), r.URL.Query().Get("fresh") == "1")
	if err != nil {
		s.fail(w, r, errs.E("web.ledgerVerify", errs.Unavailable, errs.Code("ledger.verify"), err))
		return
	}
	out := verifyJSON{OK: rep.OK(), Entries: rep.Entries, LastSeq: rep.LastSeq, SignedThrough: rep.SignedThrough,
		Checkpoints: rep.Checkpoints, External: rep.External, VerifiedAt: s.timeText(at), Fresh: fresh, Anchored: rep.Anchored}
	if p := rep.Problem; p != nil {
		out.ProblemSeq, out.ProblemDamage = p.Seq, damageName(p.Damage)
	}
	writeJSON(w, http.StatusOK, out)
}

// SignOffPurpose is the Purpose of a sign-off's ledger row.
const SignOffPurpose = "관리대장 정기 확인"

// ledgerSignOff records the 관리책임자's sign-off (확인) of a period of
// the 관리대장 for one site, or every site: a ledger row of kind sign-off
// naming the period, how many rows of it the signer's scope holds and the
// state of the chain as verified now.
func (s *Server) ledgerSignOff(w http.ResponseWriter, r *http.Request) {
	const op = "web.ledgerSignOff"
	var body struct {
		Site string `json:"site"`
		From string `json:"from"`
		To   string `json:"to"`
		Note string `json:"note"`
	}
	if err := decodeBody(r, 8<<10, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	body.Note = strings.TrimSpace(body.Note)
	if utf8.RuneCountInString(body.Note) > 500 {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("signoff.note"), errs.Params{"max": "500"}, "note too long"))
		return
	}
	from, err := s.parseDay(body.From)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := s.parseDay(body.To)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to = to.AddDate(0, 0, 1)
	if !to.After(from) {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("date.order"), "to before from"))
		return
	}
	// A day that has not begun cannot be checked.
	if from.After(s.clk.Now()) {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("signoff.future"), "period in the future"))
		return
	}
	site := body.Site
	if site == "" {
		site = "*"
	}
	p := principal(r)
	if err := s.opt.Guard.Authorize(r, p, PermApproveProvision, site); err != nil {
		// A site beyond the signer's grants stays "not found"; the rest
		// is told why.
		kind := errs.KindOf(err)
		if site == "*" || kind != errs.Private {
			kind = errs.Permission
		}
		s.fail(w, r, errs.E(op, kind, errs.Code("signoff.forbidden"), err))
		return
	}
	es, err := s.entries(r, ledgerQuery{filter: ledger.Filter{From: from, To: to, Site: body.Site}, site: body.Site})
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	rep, _, _, err := s.verified(r.Context(), true)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Unavailable, errs.Code("ledger.verify"), err))
		return
	}
	state := fmt.Sprintf("체인 검증: 이상 없음(1~%d번)", rep.LastSeq)
	if rep.Problem != nil {
		state = fmt.Sprintf("체인 검증: %d번 항목 손상(%s)", rep.Problem.Seq, rep.Problem.Damage)
	}
	detail := fmt.Sprintf("기간 내 항목 %d건; %s", len(es), state)
	if body.Note != "" {
		detail += " — " + body.Note
	}
	loc := s.zone()
	e := ledger.Entry{
		Kind: ledger.SignOff, Actor: p.User, Role: p.Role, Client: clientAddr(r), Site: body.Site,
		From: from, To: to, Purpose: SignOffPurpose, Detail: detail,
		Object: fmt.Sprintf("관리대장 %s ~ %s", from.In(loc).Format(time.DateOnly), to.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)),
	}
	got, err := s.opt.Ledger.Append(r.Context(), e)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Unavailable, err))
		return
	}
	writeJSON(w, http.StatusCreated, s.toEntryJSON(got))
}

// damageName is a damage's name in codes and catalogue keys ("bad-checkpoint").
func damageName(d ledger.Damage) string { return strings.ReplaceAll(d.String(), " ", "-") }
