package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// The 관리대장 page: the rows the reader may see, filtered by kind, days in
// the institution's zone, site, camera and person; whether the chain is
// intact and when that was last checked; the download of the official
// register; and the 관리책임자's sign-off of a period. The filters are a
// plain GET form, so the page works and links without script; the
// sign-off and "verify now" use ui/ledger.js.
func init() {
	AddPage(&Page{Name: "ledger", Title: "ui.adm.ledger.title", Perm: PermReadLedger, Menu: 40,
		Scripts: []string{"ledger.js"}, Data: loadLedgerPage})
}

type option struct{ Value, Label string }

// ledgerVerifyView is the chain's state as the page shows it.
type ledgerVerifyView struct {
	OK                     bool
	LastSeq, SignedThrough uint64
	UnsealedFrom           uint64 // 0: every entry is sealed
	ProblemSeq             uint64
	At                     time.Time
	// Anchored: verified against a trusted key configured from outside
	// the data directory; otherwise against the key gwanje signs with,
	// which proves nothing against someone who can write data_dir.
	Anchored bool
}

type ledgerRow struct {
	ledger.Entry
	KindKey string // catalogue key of the kind
	Site    string // the site's name
}

type ledgerPageData struct {
	Available bool
	Err       string // catalogue key of a bad filter
	Q         struct{ Kind, From, To, Site, Camera, Person, Ref string }
	Kinds     []option
	Sites     []option
	Cameras   []option
	Rows      []ledgerRow
	Total     int
	Page      int
	Pages     int
	Prev      string // query of the previous and next pages ("" when none)
	Next      string
	Export    string // the filter query, for the downloads
	Verify    *ledgerVerifyView
	VerifyErr bool
	Damage    string // catalogue key of the damage found
	CanSign   bool
	SignSites []option
	SignOffs  []ledgerRow
	From, To  string // the default sign-off period: last month
}

const ledgerPagePer = 50

func loadLedgerPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &ledgerPageData{Available: s.opt.Admin.Book != nil}
	v := r.URL.Query()
	d.Q.Kind, d.Q.From, d.Q.To, d.Q.Site = v.Get("kind"), v.Get("from"), v.Get("to"), v.Get("site")
	d.Q.Camera, d.Q.Person, d.Q.Ref = v.Get("camera"), v.Get("person"), v.Get("ref")
	d.Kinds = append(d.Kinds, option{"", pc.T("ui.adm.ledger.kind_all")}, option{"official", pc.T("ui.adm.ledger.kind_official")})
	for _, k := range ledger.Kinds() {
		d.Kinds = append(d.Kinds, option{k.String(), pc.T("ledger.kind." + k.String())})
	}
	sites := s.siteNames()
	read := s.scope(r, PermReadLedger)
	sign := s.scope(r, PermApproveProvision)
	d.Sites = append(d.Sites, option{"", pc.T("ui.adm.all_sites")})
	for _, id := range sortedSites(sites) {
		if read.has(id) {
			d.Sites = append(d.Sites, option{id, sites[id]})
		}
		if sign.has(id) {
			d.SignSites = append(d.SignSites, option{id, sites[id]})
		}
	}
	if sign.has("*") {
		d.SignSites = append([]option{{"", pc.T("ui.adm.all_sites")}}, d.SignSites...)
	}
	d.CanSign = len(d.SignSites) > 0
	d.Cameras = append(d.Cameras, option{"", pc.T("ui.adm.ledger.camera_all")})
	for _, c := range s.opt.Cameras.List() {
		if read.has(c.Site) {
			d.Cameras = append(d.Cameras, option{c.ID, c.Name})
		}
	}
	// The default sign-off period is the last whole month.
	y, m, _ := pc.Now.In(pc.Zone).Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, pc.Zone).AddDate(0, -1, 0)
	d.From, d.To = first.Format(time.DateOnly), first.AddDate(0, 1, -1).Format(time.DateOnly)
	if !d.Available {
		return d, nil
	}

	q, err := s.parseLedgerQuery(r)
	if err != nil {
		d.Err = string(errs.CodeOf(err))
		return d, nil
	}
	es, err := s.entries(r, q)
	if err != nil {
		return nil, err
	}
	d.Total = len(es)
	d.Pages = max(1, (len(es)+ledgerPagePer-1)/ledgerPagePer)
	d.Page, _ = strconv.Atoi(v.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	hi := len(es) - (d.Page-1)*ledgerPagePer
	for i := hi - 1; i >= 0 && i >= hi-ledgerPagePer; i-- {
		d.Rows = append(d.Rows, s.ledgerRow(es[i], sites))
	}
	page := func(n int) string {
		w := url.Values{}
		for k, vs := range v {
			w[k] = vs
		}
		w.Set("page", strconv.Itoa(n))
		return "?" + w.Encode()
	}
	if d.Page > 1 {
		d.Prev = page(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = page(d.Page + 1)
	}
	ex := url.Values{}
	for _, k := range []string{"kind", "from", "to", "site", "camera", "person", "ref"} {
		if v.Get(k) != "" {
			ex.Set(k, v.Get(k))
		}
	}
	d.Export = ex.Encode()

	if rep, at, _, err := s.verified(r.Context(), false); err != nil {
		s.log.Warn("ledger page: verification", "err", err)
		d.VerifyErr = true
	} else {
		vj := ledgerVerifyView{OK: rep.OK(), LastSeq: rep.LastSeq, SignedThrough: rep.SignedThrough, At: at, Anchored: rep.Anchored}
		if rep.SignedThrough < rep.LastSeq {
			vj.UnsealedFrom = rep.SignedThrough + 1
		}
		if p := rep.Problem; p != nil {
			vj.ProblemSeq = p.Seq
			d.Damage = "ledger.damage." + damageName(p.Damage)
		}
		d.Verify = &vj
	}
	so, err := s.entries(r, ledgerQuery{filter: ledger.Filter{Kinds: []ledger.Kind{ledger.SignOff}}})
	if err != nil {
		return nil, err
	}
	for i := len(so) - 1; i >= 0 && i >= len(so)-5; i-- {
		d.SignOffs = append(d.SignOffs, s.ledgerRow(so[i], sites))
	}
	return d, nil
}

func (s *Server) ledgerRow(e ledger.Entry, sites map[string]string) ledgerRow {
	row := ledgerRow{Entry: e, KindKey: "ledger.kind." + e.Kind.String(), Site: e.Site}
	if n := sites[e.Site]; n != "" {
		row.Site = n
	}
	return row
}

// siteNames maps the id of every site of the registry and of every
// camera to its name.
func (s *Server) siteNames() map[string]string {
	out := map[string]string{}
	if ra := s.opt.Admin.Registry; ra != nil && ra.Running != nil {
		if reg := ra.Running(); reg != nil {
			for _, st := range reg.Sites {
				out[st.ID] = st.Name
			}
		}
	}
	for _, c := range s.opt.Cameras.List() {
		if out[c.Site] == "" {
			out[c.Site] = c.SiteName
		}
		if out[c.Site] == "" {
			out[c.Site] = c.Site
		}
	}
	return out
}

func sortedSites(m map[string]string) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
