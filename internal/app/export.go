package app

import (
	"os"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/web"
)

// exportWebOptions wires evidence export into web: the export signing key
// (created on first start) and the directory where a package is built
// while it is sent. Whatever a crash left there (decrypted footage) is
// removed first.
func (a *App) exportWebOptions(opt *web.Options) error {
	key, err := export.LoadOrCreateKey(export.DefaultKeyPath(a.cfg.DataDir))
	if err != nil {
		return err
	}
	dir := filepath.Join(a.cfg.DataDir, "exports")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	opt.Exporter = &export.Exporter{Source: export.StoreSource{Store: a.store}, Key: key, Now: a.clk.Now, Loc: a.loc}
	opt.ExportDir = dir
	return nil
}
