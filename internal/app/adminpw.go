package app

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gwanje/gwanje/internal/durable"
)

// The first administrator's one-time password goes to a file only the
// service account reads, never to standard output or the log (both end
// in the journal, which others read and which keeps it for months).
// serve prints the file's path; the file is removed as soon as the
// password is spent: changed at the first login, or the administrator
// deactivated (docs/design/decisions.md).

// AdminPasswordName is the file, in the data directory, that holds the
// first administrator's one-time password until it is changed.
const AdminPasswordName = "admin-password"

// adminPasswordCheck is how often a running gwanje looks whether the
// one-time password has been changed, to remove its file.
const adminPasswordCheck = 10 * time.Second

// AdminPasswordFile is the path of the one-time password file while the
// first administrator has not changed its password, "" once it has (or
// when this data directory never had one).
func (a *App) AdminPasswordFile() string {
	p := filepath.Join(a.cfg.DataDir, AdminPasswordName)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// keepAdminPassword writes pw to the one-time password file, mode 0600,
// durably.
func (a *App) keepAdminPassword(pw string) error {
	return durable.WriteFile(filepath.Join(a.cfg.DataDir, AdminPasswordName), []byte(pw+"\n"), 0o600)
}

// removeSpentAdminPassword removes the one-time password file when the
// password it holds can no longer log in: the administrator "admin" has
// changed it, or is gone or deactivated. It reports whether the file is
// gone.
func (a *App) removeSpentAdminPassword(ctx context.Context) (bool, error) {
	p := filepath.Join(a.cfg.DataDir, AdminPasswordName)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	users, err := a.access.Users(ctx, a.access.Operator("gwanje"))
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if u.Name == "admin" && u.Active && u.MustChangePassword {
			return false, nil
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := durable.SyncDir(a.cfg.DataDir); err != nil {
		return true, err
	}
	a.log.Info("the first administrator's one-time password was changed; its file is removed", "file", p)
	return true, nil
}

// watchAdminPassword removes the one-time password file once the password
// is spent, looking every adminPasswordCheck until then or until ctx ends.
func (a *App) watchAdminPassword(ctx context.Context) {
	for {
		gone, err := a.removeSpentAdminPassword(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("checking the first administrator's one-time password file", "err", err)
		}
		if gone {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-a.clk.After(adminPasswordCheck):
		}
	}
}
