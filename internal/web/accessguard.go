package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
)

// AccessGuard is the Guard of a running gwanje: the access service.
type AccessGuard struct {
	S     *access.Service
	Clock clock.Clock
}

func (g AccessGuard) now() clock.Clock {
	if g.Clock == nil {
		return clock.Real{}
	}
	return g.Clock
}

// Authenticate implements Guard.
func (g AccessGuard) Authenticate(r *http.Request) (*Principal, error) {
	ap, err := g.S.Authenticate(r.Context(), access.SessionToken(r), g.S.ClientIP(r))
	if err != nil {
		return nil, err
	}
	// The session is identified to web by a hash of its CSRF token, which
	// is unique per session and never appears in a URL.
	sum := sha256.Sum256([]byte(ap.CSRF))
	return &Principal{
		User:               ap.Name,
		Role:               ap.Role(g.now().Now()).Korean(),
		Session:            hex.EncodeToString(sum[:16]),
		MustChangePassword: ap.MustChangePassword,
		Lang:               ap.Lang,
		native:             ap,
	}, nil
}

func nativeOf(p *Principal) (*access.Principal, error) {
	ap, ok := p.native.(*access.Principal)
	if !ok || ap == nil {
		return nil, errs.E("web.AccessGuard", errs.Unauthorized, "no access principal")
	}
	return ap, nil
}

// CheckCSRF implements Guard.
func (g AccessGuard) CheckCSRF(r *http.Request, p *Principal) error {
	ap, err := nativeOf(p)
	if err != nil {
		return err
	}
	return access.CheckCSRF(r, ap)
}

// Authorize implements Guard.
func (g AccessGuard) Authorize(r *http.Request, p *Principal, perm Perm, site string) error {
	ap, err := nativeOf(p)
	if err != nil {
		return err
	}
	ps, err := access.ParsePerm(string(perm))
	if err != nil {
		return errs.E("web.AccessGuard", errs.Internal, err)
	}
	role, err := g.S.AuthorizeRole(ap, ps, site)
	if err != nil {
		return err
	}
	// The ledger names the role of the grant that allowed the act.
	p.Role = role.Korean()
	return nil
}

// WithPrincipal implements Guard.
func (g AccessGuard) WithPrincipal(ctx context.Context, p *Principal) context.Context {
	if ap, err := nativeOf(p); err == nil {
		return access.WithPrincipal(ctx, ap)
	}
	return ctx
}
