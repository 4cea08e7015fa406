package web

import (
	"net/http"
)

// The registry page: a read-only view of the running registry (sites with
// their retention and storage, camera groups and cameras), and, for who
// manages every site, the import of a new registry file: validated and
// previewed (what the policy would promise differently, and a line diff
// against the file it replaces) before it is applied (ui/registry.js). An
// imported file takes effect at the next start, which the page says.
func init() {
	AddPage(&Page{Name: "registry", Title: "ui.adm.registry.title", Perm: PermManageRegistry, Menu: 70,
		Scripts: []string{"registry.js"}, Data: loadRegistryPage})
}

type registryPageData struct {
	Available bool
	View      registryView
	Whole     bool // may import
}

func loadRegistryPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &registryPageData{}
	ra := s.opt.Admin.Registry
	if ra == nil || ra.Running == nil || ra.Running() == nil {
		return d, nil
	}
	d.Available = true
	sc := s.scope(r, PermManageRegistry)
	d.View = viewOf(ra.Running(), sc.has)
	d.Whole = sc.has("*")
	disk, err := s.onDisk()
	if err != nil {
		return nil, err
	}
	d.View.Base = digest(disk)
	if d.Whole {
		d.View.Pending = s.registryPending(disk)
	}
	return d, nil
}
