package access

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// HTTP names shared with the web layer.
const (
	CookieName = "gwanje_session" // the session cookie
	CSRFHeader = "X-CSRF-Token"   // CSRF token header on state-changing requests
	CSRFField  = "csrf_token"     // or this form field
)

// SessionToken returns the session cookie's value, or "".
func SessionToken(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// SetSessionCookie sets the session cookie: HttpOnly, SameSite=Strict,
// Path=/, and Secure when the request came over TLS.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, MaxAge: -1,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// Safe reports whether a method changes no state (GET, HEAD, OPTIONS).
func Safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// CheckCSRF checks the request's CSRF token (header, else form field)
// against the session's in constant time. Safe methods pass.
func CheckCSRF(r *http.Request, p *Principal) error {
	const op = "access.CheckCSRF"
	if Safe(r.Method) {
		return nil
	}
	tok := r.Header.Get(CSRFHeader)
	if tok == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		tok = r.PostFormValue(CSRFField)
	}
	if p == nil || p.CSRF == "" || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(p.CSRF)) != 1 {
		return errs.Errorf(op, errs.Permission, "missing or wrong CSRF token")
	}
	return nil
}

// ClientIP is ClientAddr with the service's trusted proxies.
func (s *Service) ClientIP(r *http.Request) netip.Addr { return ClientAddr(r, s.cfg.TrustedProxies) }

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// PrincipalFrom returns the principal Middleware put in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Handlers builds the HTTP handlers of the access service. Error writes a
// failed request's response: web.AccountRoutes sets it to the one HTTP
// error writer (web.WriteError: a catalogue code and message, never Go
// text). The default, WriteError, is a bare stand-in for tests.
type Handlers struct {
	S     *Service
	Error func(w http.ResponseWriter, r *http.Request, err error)
	Log   *slog.Logger // where web.AccountRoutes's error writer logs (nil: nowhere)
}

func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.Error != nil {
		h.Error(w, r, err)
		return
	}
	WriteError(w, err)
}

// WriteError is the stand-in error writer when Handlers.Error is unset:
// the status of err's kind and its public code only (the web layer's
// writer adds the catalogue message).
func WriteError(w http.ResponseWriter, err error) {
	status := map[errs.Kind]int{
		errs.Invalid: http.StatusBadRequest, errs.Unauthorized: http.StatusUnauthorized, errs.Permission: http.StatusForbidden,
		errs.Private: http.StatusNotFound, errs.NotExist: http.StatusNotFound, errs.Exist: http.StatusConflict,
		errs.Unavailable: http.StatusServiceUnavailable, errs.TooLarge: http.StatusRequestEntityTooLarge,
	}[errs.KindOf(err)]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := errs.CodeOf(err)
	if errs.KindOf(err) == errs.Private {
		code = errs.NotExist.Code()
	}
	writeJSON(w, status, map[string]string{"code": string(code)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E("access.readJSON", errs.Invalid, errs.Code("request.json"), err)
	}
	return nil
}

// Middleware authenticates every request from its session cookie, checks
// the CSRF token on state-changing methods, and puts the principal in the
// request context. Requests without a valid session get 401.
func (h *Handlers) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.S.Authenticate(r.Context(), SessionToken(r), h.S.ClientIP(r))
		if err != nil {
			ClearSessionCookie(w, r)
			h.fail(w, r, err)
			return
		}
		if err := CheckCSRF(r, p); err != nil {
			h.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Route is one HTTP route of the access service, for the web layer to
// mount and to list in its route × role matrix. Public routes need no
// session; Perm is the permission checked inside the handler (0: any
// logged-in user).
type Route struct {
	Method, Pattern string
	Public          bool
	Perm            Perm
	Handler         http.HandlerFunc
}

// Routes lists the access routes. Non-public handlers expect Middleware
// in front of them.
func (h *Handlers) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/login", Public: true, Handler: h.Login},
		{Method: "POST", Pattern: "/api/logout", Handler: h.Logout},
		{Method: "GET", Pattern: "/api/me", Handler: h.Me},
		{Method: "POST", Pattern: "/api/password", Handler: h.ChangePassword},
		{Method: "POST", Pattern: "/api/totp", Handler: h.BeginTOTP},
		{Method: "POST", Pattern: "/api/totp/confirm", Handler: h.ConfirmTOTP},
		{Method: "DELETE", Pattern: "/api/totp", Handler: h.RemoveTOTP},
		{Method: "GET", Pattern: "/api/users", Perm: ManageUsers, Handler: h.ListUsers},
		{Method: "POST", Pattern: "/api/users", Perm: ManageUsers, Handler: h.CreateUser},
		{Method: "PUT", Pattern: "/api/users/{name}/grants", Perm: ManageUsers, Handler: h.SetGrants},
		{Method: "POST", Pattern: "/api/users/{name}/deactivate", Perm: ManageUsers, Handler: h.Deactivate},
	}
}

// Login handles {"name","password","totp"}: on success it sets the session
// cookie and returns {"csrf","must_change_password","user"}.
func (h *Handlers) Login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		TOTP     string `json:"totp"`
	}
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	sess, err := h.S.Login(r.Context(), req.Name, req.Password, req.TOTP, h.S.ClientIP(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	SetSessionCookie(w, r, sess.Token)
	writeJSON(w, http.StatusOK, map[string]any{"csrf": sess.CSRF, "must_change_password": sess.Principal.MustChangePassword,
		"user": userJSON(sess.Principal.User)})
}

// Logout ends the session.
func (h *Handlers) Logout(w http.ResponseWriter, r *http.Request) {
	if err := h.S.Logout(r.Context(), PrincipalFrom(r.Context())); err != nil {
		h.fail(w, r, err)
		return
	}
	ClearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// Me returns the caller.
func (h *Handlers) Me(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p == nil {
		h.fail(w, r, errs.Errorf("access.Me", errs.Unauthorized, "not logged in"))
		return
	}
	writeJSON(w, http.StatusOK, userJSON(p.User))
}

// ChangePassword handles {"old","new"}.
func (h *Handlers) ChangePassword(w http.ResponseWriter, r *http.Request) {
	var req struct{ Old, New string }
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.S.ChangePassword(r.Context(), PrincipalFrom(r.Context()), req.Old, req.New); err != nil {
		h.fail(w, r, err)
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

// BeginTOTP handles {"password"} or {"code"} and returns {"uri"} to enrol
// an authenticator app (or move TOTP to a new one).
func (h *Handlers) BeginTOTP(w http.ResponseWriter, r *http.Request) {
	var req totpProof
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	uri, err := h.S.BeginTOTP(r.Context(), PrincipalFrom(r.Context()), req.Password, req.Code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"uri": uri})
}

// ConfirmTOTP handles {"code"}.
func (h *Handlers) ConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	var req struct{ Code string }
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.S.ConfirmTOTP(r.Context(), PrincipalFrom(r.Context()), req.Code); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RemoveTOTP handles DELETE {"password"} or {"code"}: TOTP off.
func (h *Handlers) RemoveTOTP(w http.ResponseWriter, r *http.Request) {
	var req totpProof
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.S.RemoveTOTP(r.Context(), PrincipalFrom(r.Context()), req.Password, req.Code); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GrantJSON is a grant on the wire.
type GrantJSON struct {
	Role       string    `json:"role"`
	Title      string    `json:"title,omitempty"`
	Sites      []string  `json:"sites"`
	Perms      []string  `json:"perms,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

func (g GrantJSON) grant() (Grant, error) {
	role, err := ParseRole(g.Role)
	if err != nil {
		return Grant{}, err
	}
	out := Grant{Role: role, Title: g.Title, Sites: g.Sites, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil}
	for _, n := range g.Perms {
		p, err := ParsePerm(n)
		if err != nil {
			return Grant{}, err
		}
		out.Perms |= Set(p)
	}
	return out, out.validate()
}

func grantsFrom(gs []GrantJSON) ([]Grant, error) {
	var out []Grant
	for _, g := range gs {
		x, err := g.grant()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func userJSON(u User) map[string]any {
	var gs []GrantJSON
	for _, g := range u.Grants {
		var ps []string
		for _, p := range g.EffectivePerms().List() {
			ps = append(ps, p.String())
		}
		gs = append(gs, GrantJSON{Role: g.Role.String(), Title: g.Title, Sites: g.Sites, Perms: ps, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil})
	}
	return map[string]any{"name": u.Name, "display": u.Display, "active": u.Active, "must_change_password": u.MustChangePassword,
		"totp": u.TOTP, "grants": gs, "deactivate_reason": u.DeactivateReason}
}

// ListUsers returns every user (ManageUsers).
func (h *Handlers) ListUsers(w http.ResponseWriter, r *http.Request) {
	us, err := h.S.Users(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []map[string]any{}
	for _, u := range us {
		out = append(out, userJSON(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// CreateUser handles {"name","display","grants"} (ManageUsers) and returns
// the user and its one-time password, shown once.
func (h *Handlers) CreateUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name    string      `json:"name"`
		Display string      `json:"display"`
		Grants  []GrantJSON `json:"grants"`
	}
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	gs, err := grantsFrom(req.Grants)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, pw, err := h.S.CreateUser(r.Context(), PrincipalFrom(r.Context()), req.Name, req.Display, gs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(u), "one_time_password": pw})
}

// SetGrants handles PUT {"grants"} for the user named in the path (ManageUsers).
func (h *Handlers) SetGrants(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Grants []GrantJSON `json:"grants"`
	}
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	gs, err := grantsFrom(req.Grants)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.S.SetGrants(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name"), gs); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Deactivate handles {"reason","note"} for the user named in the path
// (ManageUsers); reason is transfer/전보, retirement/퇴직 or other/기타.
func (h *Handlers) Deactivate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	if err := readJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	reason, err := ParseReason(req.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.S.Deactivate(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name"), reason, req.Note); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
