package access

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strings"

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

// PrincipalFrom returns the principal WithPrincipal put in ctx (web does
// for every authenticated request), or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
