package web

import (
	"net/http"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
)

// Account routes: login, logout, the session's user, password, TOTP and
// user management. access.Service decides everything (who may give which
// grant, lockouts, password rules); these handlers decode, call it once
// and encode, and every refusal goes through the one error writer with
// its catalogue code (docs/design/access.md, "HTTP surface").

// accountBody is the most an account request's JSON may hold.
const accountBody = 64 << 10

func (s *Server) accountRoutes() []route {
	if s.opt.Accounts == nil {
		return nil
	}
	return []route{
		{pattern: "POST /api/login", rule: rulePublic, h: http.HandlerFunc(s.login)},
		// A session with a one-time password may learn who it is, change
		// the password and log out; nothing else.
		{pattern: "POST /api/logout", rule: ruleSession, allowMustChange: true, h: http.HandlerFunc(s.logout)},
		{pattern: "GET /api/me", rule: ruleSession, allowMustChange: true, h: http.HandlerFunc(s.me)},
		{pattern: "PUT /api/me/lang", rule: ruleSession, allowMustChange: true, h: http.HandlerFunc(s.setLang)},
		{pattern: "POST /api/password", rule: ruleSession, allowMustChange: true, h: http.HandlerFunc(s.changePassword)},
		{pattern: "POST /api/totp", rule: ruleSession, h: http.HandlerFunc(s.beginTOTP)},
		{pattern: "POST /api/totp/confirm", rule: ruleSession, h: http.HandlerFunc(s.confirmTOTP)},
		{pattern: "DELETE /api/totp", rule: ruleSession, h: http.HandlerFunc(s.removeTOTP)},
		// manage-users somewhere; the service bounds each act by the
		// caller's sites (access/grants.go).
		{pattern: "GET /api/users", rule: rulePerm, perm: PermManageUsers, h: http.HandlerFunc(s.listUsers)},
		{pattern: "POST /api/users", rule: rulePerm, perm: PermManageUsers, h: http.HandlerFunc(s.createUser)},
		{pattern: "PUT /api/users/{name}/grants", rule: rulePerm, perm: PermManageUsers, h: http.HandlerFunc(s.setGrants)},
		{pattern: "POST /api/users/{name}/deactivate", rule: rulePerm, perm: PermManageUsers, h: http.HandlerFunc(s.deactivate)},
		{pattern: "POST /api/users/{name}/reset-password", rule: rulePerm, perm: PermManageUsers, h: http.HandlerFunc(s.resetPassword)},
		{pattern: "POST /api/users/{name}/reset-totp", rule: rulePerm, perm: PermManageUsers, h: http.HandlerFunc(s.resetTOTP)},
	}
}

// login handles {"name","password","totp"}: on success it sets the session
// cookie and returns {"csrf","must_change_password","user"}.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		TOTP     string `json:"totp"`
	}
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.opt.Accounts.Login(r.Context(), req.Name, req.Password, req.TOTP, s.opt.Accounts.ClientIP(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	access.SetSessionCookie(w, r, sess.Token)
	writeJSON(w, http.StatusOK, map[string]any{"csrf": sess.CSRF, "must_change_password": sess.Principal.MustChangePassword,
		"user": userJSON(sess.Principal.User)})
}

// me is the session's principal of the access service.
func me(r *http.Request) *access.Principal { return access.PrincipalFrom(r.Context()) }

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.opt.Accounts.Logout(r.Context(), me(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	access.ClearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := me(r)
	if p == nil {
		s.fail(w, r, errs.Errorf("web.me", errs.Unauthorized, "not logged in"))
		return
	}
	writeJSON(w, http.StatusOK, userJSON(p.User))
}

// setLang handles {"lang":"ko"|"en"}: the session's user's own language
// of the UI, kept with the account (every browser, every later session).
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Lang string `json:"lang"`
	}
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := me(r)
	if err := s.opt.Accounts.SetLang(r.Context(), p, req.Lang); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"lang": p.Lang})
}

// changePassword handles {"old","new"}.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var req struct{ Old, New string }
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opt.Accounts.ChangePassword(r.Context(), me(r), req.Old, req.New); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// totpProof is the body of the routes that change or remove TOTP: the
// current password, or (when TOTP is on) the current code.
type totpProof struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

// beginTOTP handles {"password"} or {"code"} and returns {"uri"} to enrol
// an authenticator app (or move TOTP to a new one).
func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request) {
	var req totpProof
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	uri, err := s.opt.Accounts.BeginTOTP(r.Context(), me(r), req.Password, req.Code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"uri": uri})
}

// confirmTOTP handles {"code"} of the new authenticator.
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opt.Accounts.ConfirmTOTP(r.Context(), me(r), req.Code); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeTOTP handles DELETE {"password"} or {"code"}: TOTP off.
func (s *Server) removeTOTP(w http.ResponseWriter, r *http.Request) {
	var req totpProof
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opt.Accounts.RemoveTOTP(r.Context(), me(r), req.Password, req.Code); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// grantJSON is a grant on the wire.
type grantJSON struct {
	Role       string    `json:"role"`
	Title      string    `json:"title,omitempty"`
	Sites      []string  `json:"sites"`
	Perms      []string  `json:"perms,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

func grantsFrom(gs []grantJSON) ([]access.Grant, error) {
	var out []access.Grant
	for _, g := range gs {
		role, err := access.ParseRole(g.Role)
		if err != nil {
			return nil, err
		}
		x := access.Grant{Role: role, Title: g.Title, Sites: g.Sites, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil}
		for _, n := range g.Perms {
			p, err := access.ParsePerm(n)
			if err != nil {
				return nil, err
			}
			x.Perms |= access.Set(p)
		}
		out = append(out, x)
	}
	return out, nil
}

func userJSON(u access.User) map[string]any {
	var gs []grantJSON
	for _, g := range u.Grants {
		var ps []string
		for _, p := range g.EffectivePerms().List() {
			ps = append(ps, p.String())
		}
		gs = append(gs, grantJSON{Role: g.Role.String(), Title: g.Title, Sites: g.Sites, Perms: ps, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil})
	}
	return map[string]any{"name": u.Name, "display": u.Display, "active": u.Active, "must_change_password": u.MustChangePassword,
		"totp": u.TOTP, "grants": gs, "deactivate_reason": u.DeactivateReason, "lang": u.Lang}
}

// listUsers returns the users the caller manages.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.opt.Accounts.Users(r.Context(), me(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []map[string]any{}
	for _, u := range us {
		out = append(out, userJSON(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// createUser handles {"name","display","grants"} and returns the user and
// its one-time password, shown once.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name    string      `json:"name"`
		Display string      `json:"display"`
		Grants  []grantJSON `json:"grants"`
	}
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	gs, err := grantsFrom(req.Grants)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, pw, err := s.opt.Accounts.CreateUser(r.Context(), me(r), req.Name, req.Display, gs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(u), "one_time_password": pw})
}

// setGrants handles PUT {"grants"} for the user named in the path.
func (s *Server) setGrants(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Grants []grantJSON `json:"grants"`
	}
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	gs, err := grantsFrom(req.Grants)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opt.Accounts.SetGrants(r.Context(), me(r), r.PathValue("name"), gs); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resetPassword gives the user named in the path a new one-time password,
// returned once as {"one_time_password"}; their sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	pw, err := s.opt.Accounts.ResetPassword(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"one_time_password": pw})
}

// resetTOTP removes the authenticator of the user named in the path (a
// lost phone); their sessions end.
func (s *Server) resetTOTP(w http.ResponseWriter, r *http.Request) {
	if err := s.opt.Accounts.RemoveTOTPOf(r.Context(), me(r), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deactivate handles {"reason","note"} for the user named in the path;
// reason is transfer/전보, retirement/퇴직 or other/기타.
func (s *Server) deactivate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	if err := decodeBody(r, accountBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	reason, err := access.ParseReason(req.Reason)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opt.Accounts.Deactivate(r.Context(), me(r), r.PathValue("name"), reason, req.Note); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
