package access

import (
	"errors"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// ErrNetwork marks a refusal because the client is outside the viewing
// room: the networks from which footage may be viewed (Rooms).
var ErrNetwork = errors.New("footage may not be viewed or exported from this network")

// ErrMustChangePassword marks a refusal until the one-time password is changed.
var ErrMustChangePassword = errors.New("the one-time password must be changed first")

// Authorize reports whether p's grants allow perm on site ("" for acts
// that are not tied to a site). It returns nil, or an *errs.Error of kind:
//   - Unauthorized: no principal, or an inactive user;
//   - Permission: no valid grant carries perm, or the password must be
//     changed;
//   - Private: perm is granted, but not on this site, which must look the
//     same as a site that does not exist.
//
// It says what the grants allow, not whether footage may be reached now:
// that is the gate's (Gate.Begin), which adds the viewing-room network,
// the purpose and the ledger row.
func (s *Service) Authorize(p *Principal, perm Perm, site string) error {
	_, err := s.AuthorizeRole(p, perm, site)
	return err
}

// AuthorizeRole is Authorize returning the role of the grant that allowed
// it, for the ledger.
func (s *Service) AuthorizeRole(p *Principal, perm Perm, site string) (Role, error) {
	return authorize(p, perm, site, s.now())
}

func authorize(p *Principal, perm Perm, site string, now time.Time) (Role, error) {
	const op = "access.Authorize"
	if p == nil || !p.Active {
		return roleNone, errs.Errorf(op, errs.Unauthorized, "not logged in")
	}
	if p.MustChangePassword {
		return roleNone, errs.E(op, errs.Permission, errs.Code("password.must_change"), ErrMustChangePassword)
	}
	anywhere := false
	for _, g := range p.Grants {
		if !g.validAt(now) || !g.EffectivePerms().Has(perm) {
			continue
		}
		anywhere = true
		if site != "" && !g.covers(site) {
			continue
		}
		return g.Role, nil
	}
	if anywhere {
		return roleNone, errs.Errorf(op, errs.Private, "site %q", site)
	}
	return roleNone, errs.Errorf(op, errs.Permission, "%s is not granted", perm)
}
