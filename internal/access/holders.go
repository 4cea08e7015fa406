package access

import (
	"context"

	"github.com/gwanje/gwanje/internal/errs"
)

// CountHolders returns how many active accounts hold perm on site now
// (a grant on the site or on "*", valid now). Site "" or "*" counts the
// holders on every site: grants on "*" only. The requests service asks it
// whether a site has two people who handle requests, so that the one who
// decides a request is not the one who took it (docs/design/requests.md).
func (s *Service) CountHolders(ctx context.Context, perm Perm, site string) (int, error) {
	const op = "access.CountHolders"
	if site == "" {
		site = "*"
	}
	us, err := s.st.Accounts(ctx)
	if err != nil {
		return 0, errs.E(op, err)
	}
	now := s.now()
	n := 0
	for _, u := range us {
		if !u.Active {
			continue
		}
		p := Principal{User: User{Grants: u.Grants}}
		if p.holdsOn(perm, site, now) {
			n++
		}
	}
	return n, nil
}
