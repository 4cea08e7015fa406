package access

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Delegation: who may give, change or take away whose grants
// (docs/design/access.md, "Delegation").
//
//  1. Managing users is scoped like everything else: manage-users on a
//     site is the authority to designate the people of that site. A grant
//     is given only on sites where the granter holds manage-users; a grant
//     on "*" only by someone holding manage-users on "*".
//  2. The administrative permissions (manage-users, manage-registry) pass
//     only from someone who holds them on those sites: a site
//     administrator cannot make another administrator stronger than itself.
//     The other permissions (footage, requests, ledger) are designated by
//     the site's administrator without being held by it, which is how the
//     policies' 차등부여 works: the 시스템관리자 designates 관리책임자 and
//     접근권한자 but sees no footage itself.
//  3. Nobody changes their own grants, resets their own password through
//     the administrator's route, or deactivates themself.
//  4. A user is changed, reset or deactivated only by someone who could
//     have given every grant that user holds (so a site administrator can
//     neither deactivate the global administrator nor touch another site's
//     people); a user outside the administrator's sites looks like no user.

// holdsOn reports whether p holds perm on site now; for site "*" only a
// grant on "*" counts.
func (p *Principal) holdsOn(perm Perm, site string, now time.Time) bool {
	for _, g := range p.Grants {
		if !g.validAt(now) || !g.EffectivePerms().Has(perm) {
			continue
		}
		if slices.Contains(g.Sites, "*") || (site != "*" && slices.Contains(g.Sites, site)) {
			return true
		}
	}
	return false
}

// administrative permissions pass only from someone holding them.
var administrative = Set(ManageUsers, ManageRegistry)

// mayGive reports whether actor may give grants (rules 1 and 2). A nil
// actor is the system itself (the first administrator).
func (s *Service) mayGive(actor *Principal, grants []Grant) error {
	const op = "access.mayGive"
	if actor == nil {
		return nil
	}
	now := s.now()
	for _, g := range grants {
		for _, site := range g.Sites {
			if !actor.holdsOn(ManageUsers, site, now) {
				return errs.E(op, errs.Permission, errs.Code("grant.site"), errs.Params{"site": site},
					fmt.Errorf("%s does not manage users on site %q", actor.Name, site))
			}
			for _, perm := range (g.EffectivePerms() & administrative).List() {
				if !actor.holdsOn(perm, site, now) {
					return errs.E(op, errs.Permission, errs.Code("grant.perm"), errs.Params{"perm": perm.String(), "site": site},
						fmt.Errorf("%s does not hold %s on site %q", actor.Name, perm, site))
				}
			}
		}
	}
	return nil
}

// sees reports whether actor may know of user u: actor manages users on
// "*", or on a site one of u's grants covers (a grant on "*" covers every
// site, so its holder is known to every administrator).
func (s *Service) sees(actor *Principal, u User) bool {
	if actor == nil {
		return true
	}
	now := s.now()
	if actor.holdsOn(ManageUsers, "*", now) {
		return true
	}
	for _, g := range u.Grants {
		for _, site := range g.Sites {
			if site == "*" || actor.holdsOn(ManageUsers, site, now) {
				return true
			}
		}
	}
	return false
}

// managed returns the account named name if actor may change it (rule 4):
// Private (told as "not found") when actor may not know of it, Permission
// when some grant of it lies beyond what actor could give.
func (s *Service) managed(ctx context.Context, actor *Principal, name string) (*Account, error) {
	const op = "access.managed"
	acc, err := s.lookup(ctx, name)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if !s.sees(actor, acc.User) {
		return nil, errs.E(op, errs.Private, fmt.Errorf("user %q is outside %s's sites", name, actor.Name))
	}
	if err := s.mayGive(actor, acc.Grants); err != nil {
		return nil, errs.E(op, errs.Permission, errs.Code("user.beyond"),
			fmt.Errorf("user %q holds grants beyond %s's: %w", name, actor.Name, err))
	}
	return acc, nil
}
