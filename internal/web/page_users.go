package web

import (
	"net/http"
)

// The users page: every user with their grants, creation (the one-time
// password is shown once, in the page), site-scoped grants, deactivation
// with its reason, and a password reset. It is a client of the account
// API (/api/users…, internal/access), whose coded errors it shows; the
// server decides who may grant what.
func init() {
	AddPage(&Page{Name: "users", Title: "ui.adm.users.title", Perm: PermManageUsers, Menu: 60,
		Scripts: []string{"users.js"}, Data: loadUsersPage})
}

type usersPageData struct {
	Roles   []option
	Sites   []option // the sites a grant may name ("*" first)
	Reasons []option
	// Reset and ResetTOTP are the account API's routes that give a user a
	// new one-time password and remove their authenticator ("" when the
	// server has none), with {name} for the user.
	Reset, ResetTOTP string
}

const (
	resetPasswordRoute = "/api/users/{name}/reset-password"
	resetTOTPRoute     = "/api/users/{name}/reset-totp"
)

// userRoles are the roles of the permission table, in its order.
var userRoles = []string{"admin", "manager", "authorized", "staff", "auditor"}

func loadUsersPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &usersPageData{}
	for _, role := range userRoles {
		d.Roles = append(d.Roles, option{role, pc.T("ui.adm.role." + role)})
	}
	manage := s.scope(r, PermManageUsers)
	if manage.has("*") {
		d.Sites = append(d.Sites, option{"*", pc.T("ui.adm.all_sites")})
	}
	sites := s.siteNames()
	for _, id := range sortedSites(sites) {
		if manage.has(id) {
			d.Sites = append(d.Sites, option{id, sites[id]})
		}
	}
	for _, reason := range []string{"transfer", "retirement", "other"} {
		d.Reasons = append(d.Reasons, option{reason, pc.T("ui.adm.users.reason." + reason)})
	}
	for _, rt := range s.table {
		switch rt.pattern {
		case "POST " + resetPasswordRoute:
			d.Reset = resetPasswordRoute
		case "POST " + resetTOTPRoute:
			d.ResetTOTP = resetTOTPRoute
		}
	}
	return d, nil
}
