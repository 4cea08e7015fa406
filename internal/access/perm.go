// Package access decides who may do what, where and from where: users with
// roles named as the policies name people (시스템관리자, 관리책임자,
// 접근권한자, 업무담당, 감사), grants scoped to sites with a validity period,
// argon2id passwords with lockout and optional TOTP, server-side sessions
// with CSRF tokens, a per-role network allowlist for footage (the
// restricted viewing room), and purpose-bound footage access that is
// ledgered before the first byte. The permission table is in
// docs/design/access.md; DefaultPerms is the same table in Go.
package access

import (
	"fmt"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
)

// Perm is one permission. The list is append-only: values are stored in
// grants, so never reorder or reuse them.
type Perm uint8

const (
	permNone         Perm = iota
	LiveView              // watch live footage
	Playback              // play recorded footage
	Export                // copy footage out to a file
	ApproveProvision      // approve provision to a third party (제3자 제공)
	HandleRequests        // handle data-subject requests (열람등 요구)
	ManageRegistry        // change cameras, sites, policy, configuration
	ManageUsers           // create, change and deactivate users and grants
	ReadLedger            // read and export the 관리대장
	permEnd
)

var permNames = [...]string{
	permNone: "none", LiveView: "live-view", Playback: "playback", Export: "export",
	ApproveProvision: "approve-provision", HandleRequests: "handle-requests",
	ManageRegistry: "manage-registry", ManageUsers: "manage-users", ReadLedger: "read-ledger",
}

// Perms returns every permission in order.
func Perms() []Perm {
	var ps []Perm
	for p := LiveView; p < permEnd; p++ {
		ps = append(ps, p)
	}
	return ps
}

func (p Perm) String() string {
	if int(p) < len(permNames) {
		return permNames[p]
	}
	return "perm(?)"
}

// Footage reports whether p gives access to footage, and so needs a
// purpose, a ledger row and an allowed network.
func (p Perm) Footage() bool { return p == LiveView || p == Playback || p == Export }

// ParsePerm parses a permission name.
func ParsePerm(s string) (Perm, error) {
	for p := LiveView; p < permEnd; p++ {
		if permNames[p] == s {
			return p, nil
		}
	}
	return permNone, errs.E("access.ParsePerm", errs.Invalid, errs.Code("grant.perm_name"), errs.Params{"name": LedgerName(s)},
		fmt.Errorf("unknown permission %q", s))
}

// PermSet is a set of permissions.
type PermSet uint32

// Set returns a PermSet holding ps.
func Set(ps ...Perm) PermSet {
	var s PermSet
	for _, p := range ps {
		s |= 1 << p
	}
	return s
}

// Has reports whether p is in s.
func (s PermSet) Has(p Perm) bool { return s&(1<<p) != 0 }

// List returns the permissions in s in order.
func (s PermSet) List() []Perm {
	var out []Perm
	for _, p := range Perms() {
		if s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

func (s PermSet) String() string {
	var names []string
	for _, p := range s.List() {
		names = append(names, p.String())
	}
	return strings.Join(names, ",")
}

// Role is how the policies name people. Append-only list.
type Role uint8

const (
	roleNone    Role = iota
	SystemAdmin      // 시스템관리자: configuration and users, no footage by default
	Manager          // 관리책임자 (총괄/운영, 정/부): approves provision, handles requests
	Authorized       // 접근권한자: live view and playback of their sites
	Staff            // 업무담당: live view only
	Auditor          // 감사: reads the ledger
	roleEnd
)

var roleInfo = [...]struct{ name, korean string }{
	roleNone:    {"none", "없음"},
	SystemAdmin: {"admin", "시스템관리자"},
	Manager:     {"manager", "관리책임자"},
	Authorized:  {"authorized", "접근권한자"},
	Staff:       {"staff", "업무담당"},
	Auditor:     {"auditor", "감사"},
}

// Roles returns every role in order.
func Roles() []Role {
	var rs []Role
	for r := SystemAdmin; r < roleEnd; r++ {
		rs = append(rs, r)
	}
	return rs
}

// String returns the English name used in config and the CLI ("manager").
func (r Role) String() string {
	if int(r) < len(roleInfo) {
		return roleInfo[r].name
	}
	return "role(?)"
}

// Korean returns the name the policies use ("관리책임자").
func (r Role) Korean() string {
	if int(r) < len(roleInfo) {
		return roleInfo[r].korean
	}
	return r.String()
}

// ParseRole accepts the English or Korean name of a role.
func ParseRole(s string) (Role, error) {
	for r := SystemAdmin; r < roleEnd; r++ {
		if roleInfo[r].name == s || roleInfo[r].korean == s {
			return r, nil
		}
	}
	return roleNone, errs.E("access.ParseRole", errs.Invalid, errs.Code("grant.role"), errs.Params{"name": LedgerName(s)},
		fmt.Errorf("unknown role %q (want admin, manager, authorized, staff or auditor)", s))
}

// AllPerms is every permission.
func AllPerms() PermSet { return Set(Perms()...) }

// DefaultPerms is THE permission table (docs/design/access.md shows the
// same table; a test keeps them equal). A grant without its own
// permission set gets its role's defaults.
var DefaultPerms = map[Role]PermSet{
	SystemAdmin: Set(ManageRegistry, ManageUsers),
	Manager:     Set(LiveView, Playback, Export, ApproveProvision, HandleRequests, ReadLedger),
	Authorized:  Set(LiveView, Playback),
	Staff:       Set(LiveView),
	Auditor:     Set(ReadLedger),
}

// Reason is why a user was deactivated.
type Reason string

// Deactivation reasons the policies name (전보, 퇴직) and any other.
const (
	Transfer   Reason = "전보"
	Retirement Reason = "퇴직"
	OtherCause Reason = "기타"
)

// ParseReason accepts 전보/transfer, 퇴직/retirement, 기타/other.
func ParseReason(s string) (Reason, error) {
	switch s {
	case "전보", "transfer":
		return Transfer, nil
	case "퇴직", "retirement":
		return Retirement, nil
	case "기타", "other":
		return OtherCause, nil
	}
	return "", errs.E("access.ParseReason", errs.Invalid, errs.Code("user.reason"),
		fmt.Errorf("unknown deactivation reason %q (want transfer, retirement or other)", s))
}
