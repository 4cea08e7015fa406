package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gwanje/gwanje/internal/provision"
)

// The provisions page (제3자 제공·목적 외 이용): the provisions the reader
// may know of (open ones and those produced within a day, or all) with
// the steps open to them (approve, refuse, cancel,
// produce, download), and the request form: kind, recipient, letter
// number, purpose, legal basis (개인정보 보호법 제18조제2항's items, the
// statute for item 2), form, period of use, cameras × range
// (ui/provisions.js on the /api/provisions routes).
func init() {
	AddPage(&Page{Name: "provisions", Title: "ui.prov.title", Perm: PermExport, Menu: 45,
		Scripts: []string{"provisions.js"}, Data: loadProvisionsPage})
}

type provisionRow struct {
	provision.Provision
	Names      []string // the cameras' names
	KindKey    string
	FormKey    string
	StateKey   string
	Citation   string
	MayApprove bool
	MayRefuse  bool
	MayProduce bool
	MayCancel  bool
	Download   string // the package's URL while it is kept
}

type provisionsPageData struct {
	Available bool
	All       bool
	Rows      []provisionRow
	CanCreate bool
	Cameras   []option
	Bases     []option
	Today     string
}

func loadProvisionsPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &provisionsPageData{Available: s.opt.Provisions != nil, All: r.URL.Query().Get("all") == "1",
		Today: pc.Now.In(pc.Zone).Format(time.DateOnly)}
	if !d.Available {
		return d, nil
	}
	ap, err := nativeOf(pc.User)
	if err != nil {
		return nil, err
	}
	exp := s.scope(r, PermExport)
	names := map[string]string{}
	for _, c := range s.opt.Cameras.List() {
		names[c.ID] = c.Name
		if exp.has(c.Site) {
			d.Cameras = append(d.Cameras, option{c.ID, c.Name + " · " + siteLabel(c)})
		}
	}
	d.CanCreate = len(d.Cameras) > 0
	for _, b := range provision.Bases {
		d.Bases = append(d.Bases, option{strconv.Itoa(int(b)), pc.T("ui.prov.item", "n", int(b)) + " " + b.Text(pc.Lang)})
	}
	// Open provisions, and produced ones whose package is still kept for
	// download; every one with ?all=1.
	xs, err := s.opt.Provisions.List(r.Context(), ap, true)
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	for _, x := range xs {
		if !d.All && !x.State.Open() && !(x.State == provision.Produced && now.Before(x.ProducedAt.Add(provision.PackageKeep))) {
			continue
		}
		row := provisionRow{Provision: x, KindKey: "ui.prov.kind." + string(x.Kind), FormKey: "ui.prov.form." + string(x.Form),
			StateKey: "ui.prov.state." + string(x.State), Citation: x.LegalBasis(),
			MayApprove: s.opt.Provisions.MayApprove(ap, &x), MayProduce: s.opt.Provisions.MayProduce(ap, &x)}
		for _, c := range x.Cameras {
			if n, ok := names[c]; ok {
				row.Names = append(row.Names, n)
			} else {
				row.Names = append(row.Names, c)
			}
		}
		row.MayRefuse, row.MayCancel = s.opt.Provisions.MayRefuse(ap, &x), s.opt.Provisions.MayCancel(ap, &x)
		if x.State == provision.Produced && x.Form == provision.Copy && now.Before(x.ProducedAt.Add(provision.PackageKeep)) {
			row.Download = "/api/provisions/" + strconv.FormatInt(x.ID, 10) + "/package"
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}
