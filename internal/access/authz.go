package access

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// ErrNetwork marks a refusal because the client is outside the role's
// allowed networks (the restricted viewing room).
var ErrNetwork = errors.New("footage may not be viewed or exported from this network")

// ErrMustChangePassword marks a refusal until the one-time password is changed.
var ErrMustChangePassword = errors.New("the one-time password must be changed first")

// Authorize reports whether p may use perm on site ("" for acts that are
// not tied to a site). It returns nil, or an *errs.Error of kind:
//   - Unauthorized: no principal, or an inactive user;
//   - Permission: no valid grant carries perm, the password must be changed,
//     or (for footage) the client is outside the role's networks (ErrNetwork);
//   - Private: perm is granted, but not on this site, which must look the
//     same as a site that does not exist.
func (s *Service) Authorize(p *Principal, perm Perm, site string) error {
	_, err := s.AuthorizeRole(p, perm, site)
	return err
}

// AuthorizeRole is Authorize returning the role of the grant that allowed
// it, for the ledger.
func (s *Service) AuthorizeRole(p *Principal, perm Perm, site string) (Role, error) {
	const op = "access.Authorize"
	if p == nil || !p.Active {
		return roleNone, errs.Errorf(op, errs.Unauthorized, "not logged in")
	}
	if p.MustChangePassword {
		return roleNone, errs.E(op, errs.Permission, ErrMustChangePassword)
	}
	now := s.now()
	var anywhere, netRefused bool
	for _, g := range p.Grants {
		if !g.validAt(now) || !g.EffectivePerms().Has(perm) {
			continue
		}
		anywhere = true
		if site != "" && !g.covers(site) {
			continue
		}
		if perm.Footage() && !s.networkAllows(g.Role, p.Client) {
			netRefused = true
			continue
		}
		return g.Role, nil
	}
	switch {
	case netRefused:
		return roleNone, errs.E(op, errs.Permission, ErrNetwork)
	case anywhere:
		return roleNone, errs.Errorf(op, errs.Private, "site %q", site)
	}
	return roleNone, errs.Errorf(op, errs.Permission, "%s is not granted", perm)
}

func (s *Service) networkAllows(r Role, client netip.Addr) bool {
	nets, ok := s.cfg.Networks[r]
	if !ok {
		return true
	}
	client = client.Unmap()
	for _, n := range nets {
		if n.Contains(client) {
			return true
		}
	}
	return false
}

// Purpose categories for footage access. The list is what the policies
// give as reasons to look at footage; "other" needs a full explanation.
var PurposeCategories = []string{
	"monitoring", // 실시간 관제 업무
	"incident",   // 사건·사고 확인
	"facility",   // 시설 안전·관리
	"request",    // 정보주체 열람등 요구 처리
	"provision",  // 제3자 제공 (수사기관 등)
	"check",      // 기기 점검
	"other",      // 기타 (사유 기재)
}

// Purpose is why footage is accessed: a category plus free text.
type Purpose struct {
	Category string `json:"category"`
	Text     string `json:"text"`
}

// Validate reports what is missing from a purpose.
func (p Purpose) Validate() error {
	const op = "access.Purpose"
	if !slices.Contains(PurposeCategories, p.Category) {
		return errs.Errorf(op, errs.Invalid, "purpose category %q is not one of %s", p.Category, strings.Join(PurposeCategories, ", "))
	}
	if len([]rune(strings.TrimSpace(p.Text))) < 2 {
		return errs.Errorf(op, errs.Invalid, "purpose text is required (what is being looked for and why)")
	}
	if len(p.Text) > 1000 {
		return errs.Errorf(op, errs.Invalid, "purpose text is %d bytes; at most 1000", len(p.Text))
	}
	return nil
}

// FootageRequest describes one footage access for BeginFootage.
type FootageRequest struct {
	Perm     Perm     // LiveView, Playback or Export
	Site     string   // the site of the cameras
	Cameras  []string // camera ids
	From, To time.Time
	Object   string // file name and form for an export ("cam1_0900.mp4 (MP4)")
	Purpose  Purpose
	// Party, LegalBasis, Form, Period describe a provision or a
	// data-subject viewing when the access serves one.
	Party, LegalBasis, Form, Period string
}

// RecordRefusal ledgers a refused footage request (kind access-refused)
// for a route that authorizes footage itself instead of through
// BeginFootage. A nil error means the refusal is on disk.
func (s *Service) RecordRefusal(ctx context.Context, p *Principal, perm Perm, site string, reason error) error {
	now := s.now()
	name, role, client := actorOf(p, now)
	return s.record(ctx, ledger.Entry{Kind: ledger.AccessRefused, Actor: name, Role: role, Client: client, Site: site,
		Detail: fmt.Sprintf("%s refused: %v", perm, reason)})
}

var footageKinds = map[Perm]ledger.Kind{LiveView: ledger.LiveView, Playback: ledger.Playback, Export: ledger.Export}

// BeginFootage is the gate every footage route passes before its first
// byte: it checks the purpose, the permission, the site scope and the
// client network, then writes the ledger entry and returns once that entry
// is durable. A refusal is ledgered too (kind AccessRefused). If the
// ledger cannot be written the access is refused (errs.Unavailable): no
// footage byte may leave without its ledger row.
func (s *Service) BeginFootage(ctx context.Context, p *Principal, req FootageRequest) (ledger.Entry, error) {
	const op = "access.BeginFootage"
	kind, ok := footageKinds[req.Perm]
	if !ok {
		return ledger.Entry{}, errs.Errorf(op, errs.Internal, "BeginFootage with non-footage permission %s", req.Perm)
	}
	if p == nil || !p.Active {
		return ledger.Entry{}, errs.Errorf(op, errs.Unauthorized, "not logged in")
	}
	now := s.now()
	name, _, client := actorOf(p, now)
	e := ledger.Entry{Actor: name, Client: client, Site: req.Site, Cameras: req.Cameras, From: req.From, To: req.To,
		Object: req.Object, PurposeCategory: req.Purpose.Category, Purpose: req.Purpose.Text,
		Party: req.Party, LegalBasis: req.LegalBasis, Form: req.Form, Period: req.Period}
	refuse := func(err error) (ledger.Entry, error) {
		r := e
		r.Kind, r.Role = ledger.AccessRefused, p.Role(now).Korean()
		r.Detail = fmt.Sprintf("%s refused: %v", req.Perm, err)
		if lerr := s.record(ctx, r); lerr != nil {
			return ledger.Entry{}, errs.E(op, lerr)
		}
		return ledger.Entry{}, errs.E(op, err)
	}
	if err := req.Purpose.Validate(); err != nil {
		return refuse(err)
	}
	role, err := s.AuthorizeRole(p, req.Perm, req.Site)
	if err != nil {
		return refuse(err)
	}
	e.Kind, e.Role = kind, role.Korean()
	if e.Form == "" {
		e.Form = map[Perm]string{LiveView: "실시간 열람", Playback: "재생 열람", Export: "파일 반출"}[req.Perm]
	}
	out, err := s.cfg.Ledger.Append(ctx, e)
	if err != nil {
		s.cfg.Logger.Error("footage refused: ledger write failed", "user", name, "err", err)
		return ledger.Entry{}, errs.E(op, errs.Unavailable, err)
	}
	return out, nil
}
