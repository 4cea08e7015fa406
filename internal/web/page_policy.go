package web

import (
	"net/http"
)

// The policy page: the published versions (in effect, announced, past),
// the draft the registry makes of the next version with its dates and
// what would stop its publication, the drift of the registry from the
// version in effect, the diff between any two versions or the draft, the
// publication of the draft, and the signs (안내판) and request form to
// print (ui/policy.js).
func init() {
	AddPage(&Page{Name: "policy-admin", Title: "ui.adm.policy.title", Perm: PermManageRegistry, Menu: 80,
		Scripts: []string{"policy.js"}, Data: loadPolicyPage})
}

type policyPageData struct {
	Available bool
	Whole     bool // may publish
	Status    policyJSON
	Problem   string // catalogue key of what stops publication
	Params    map[string]string
}

func loadPolicyPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &policyPageData{}
	if s.opt.Admin.Policy == nil || s.opt.Admin.Policy.Store == nil || s.opt.Admin.Policy.Registry == nil {
		return d, nil
	}
	st, err := s.policyState()
	if err != nil {
		return nil, err
	}
	d.Available, d.Status = true, st
	d.Whole = s.scope(r, PermManageRegistry).has("*")
	if dr := st.Draft; dr != nil && dr.Problem != "" {
		d.Problem = dr.Problem
		d.Params = map[string]string{"announced": dr.Announced, "effective": dr.Effective, "earliest": dr.Earliest,
			"days": itoa(dr.NoticeDays), "today": pc.Now.In(pc.Zone).Format("2006-01-02"), "measure": dr.Measure}
	}
	return d, nil
}
