package app

import (
	"github.com/gwanje/gwanje/internal/ledger/report"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/web"
)

// adminWebOptions wires the administrative routes: the 관리대장 over the
// running ledger, the registry file the server reads at start, and the
// policy store.
func (a *App) adminWebOptions(opt *web.Options) {
	opt.Admin = web.Admin{Book: a.ledger, Font: report.DefaultFont}
	if a.reg != nil {
		opt.Admin.Institution = a.reg.Organization.Name
	}
	running := func() *registry.Registry { return a.reg }
	opt.Admin.Registry = &web.RegistryAdmin{Running: running, Path: a.cfg.Registry}
	// Every version published from the web is a 관리대장 row, as from
	// the command line.
	a.policy.Ledger = a.ledger
	opt.Admin.Policy = &web.PolicyAdmin{
		Store: a.policy,
		// The next version is rendered from the registry file, which an
		// import may have replaced since the start.
		Registry: func() (*registry.Registry, error) {
			if a.cfg.Registry == "" {
				return a.reg, nil
			}
			return registry.Load(a.cfg.Registry)
		},
		Facts: a.factsFor,
	}
}
