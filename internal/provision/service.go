package provision

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/retention"
)

// Holder places and releases the holds a provision owns
// (retention.Holds).
type Holder interface {
	Add(ctx context.Context, x retention.Hold) (retention.Hold, error)
	ReleaseOwned(ctx context.Context, owner retention.Owner, ref, actor string) (int, error)
}

// Authorizer says what a user's grants allow (access.Service).
type Authorizer interface {
	Authorize(p *access.Principal, perm access.Perm, site string) error
}

// How long a produced provision keeps what it made (docs/design/export.md).
const (
	// HoldGrace: the provision's hold lasts this long after it is
	// produced, so the footage is still there for a package that failed
	// to arrive or an on-site viewing that runs long; a refused or
	// cancelled provision's hold is released at once.
	HoldGrace = 24 * time.Hour
	// PackageKeep: a produced package (decrypted footage) stays on disk
	// for its download this long, then is removed (and at every start).
	PackageKeep = 24 * time.Hour
	// DefaultViewTTL is how long an on-site viewing's access lasts.
	DefaultViewTTL = time.Hour
)

// Config configures a Service.
type Config struct {
	Store  Store
	Access Authorizer
	// Camera names a camera's site; ok false for an unknown camera.
	Camera func(id string) (site string, ok bool)
	// Zoned reports whether a camera has privacy zones, which an on-site
	// viewing by a recipient always shows masked (decision 54): its 관리대장
	// row then says so. nil: no camera has any.
	Zoned func(id string) bool
	// Holds places and releases the provisions' holds; nil: none
	// (tests of other parts only).
	Holds Holder
	// Exporter makes a copy's evidence package, through Gate.
	Exporter *export.Exporter
	Gate     *access.Gate
	// Dir is where packages wait for their download (decrypted footage:
	// the application empties it at every start).
	Dir     string
	ViewTTL time.Duration
	Clock   clock.Clock
	Logger  *slog.Logger
}

// Service runs the provision workflow.
type Service struct {
	cfg Config

	mu   sync.Mutex
	busy map[int64]bool // provisions being produced
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ViewTTL <= 0 {
		cfg.ViewTTL = DefaultViewTTL
	}
	return &Service{cfg: cfg, busy: map[int64]bool{}}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// unknownSite stands for the site of a camera the registry no longer
// knows: only a grant on every site covers it.
const unknownSite = "\x00unknown"

func (s *Service) site(cam string) string {
	if s.cfg.Camera != nil {
		if site, ok := s.cfg.Camera(cam); ok {
			return site
		}
	}
	return unknownSite
}

// allowed reports whether p holds perm on the site of every camera.
func (s *Service) allowed(p *access.Principal, perm access.Perm, cams []string) error {
	if s.cfg.Access == nil {
		return errs.Errorf("provision.allowed", errs.Internal, "provision service without an authorizer")
	}
	for _, c := range cams {
		if err := s.cfg.Access.Authorize(p, perm, s.site(c)); err != nil {
			return err
		}
	}
	return nil
}

// visible reports whether p may know of x: p holds export or
// approve-provision on every camera's site.
func (s *Service) visible(p *access.Principal, x *Provision) bool {
	return s.allowed(p, access.Export, x.Cameras) == nil || s.allowed(p, access.ApproveProvision, x.Cameras) == nil
}

// get returns provision id if p may know of it; otherwise "not found",
// whether it exists or not.
func (s *Service) get(ctx context.Context, p *access.Principal, id int64) (Provision, error) {
	const op = "provision.get"
	x, ok, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return Provision{}, errs.E(op, err)
	}
	if !ok || !s.visible(p, &x) {
		return Provision{}, errs.E(op, errs.NotExist, errs.Code("provision.not_found"), fmt.Sprintf("no provision %d", id))
	}
	return x, nil
}

// Get returns provision id as p may see it.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (Provision, error) {
	return s.get(ctx, p, id)
}

// List returns the provisions p may know of, open ones only unless all,
// newest first.
func (s *Service) List(ctx context.Context, p *access.Principal, all bool) ([]Provision, error) {
	xs, err := s.cfg.Store.List(ctx, all)
	if err != nil {
		return nil, errs.E("provision.List", err)
	}
	out := []Provision{}
	for i := range xs {
		if s.visible(p, &xs[i]) {
			out = append(out, xs[i])
		}
	}
	return out, nil
}

// MayApprove reports whether p may approve x: an open request of someone
// else, on whose every camera's site p holds approve-provision.
func (s *Service) MayApprove(p *access.Principal, x *Provision) bool {
	return x.State == Requested && p != nil && !strings.EqualFold(p.Name, x.RequestedBy) &&
		s.allowed(p, access.ApproveProvision, x.Cameras) == nil
}

// MayRefuse reports whether p may refuse x: open, and p holds
// approve-provision on every camera's site.
func (s *Service) MayRefuse(p *access.Principal, x *Provision) bool {
	return x.State.Open() && s.allowed(p, access.ApproveProvision, x.Cameras) == nil
}

// MayCancel reports whether p may cancel x: open, and p requested it or
// may refuse it.
func (s *Service) MayCancel(p *access.Principal, x *Provision) bool {
	return x.State.Open() && p != nil && (strings.EqualFold(p.Name, x.RequestedBy) || s.MayRefuse(p, x))
}

// MayProduce reports whether p may produce x: approved, and p holds the
// permission of its form (export for a copy, playback for a viewing) on
// every camera's site. The gate checks it again, with the viewing room.
func (s *Service) MayProduce(p *access.Principal, x *Provision) bool {
	return x.State == Approved && s.allowed(p, producePerm(x.Form), x.Cameras) == nil
}

func producePerm(f Form) access.Perm {
	if f == Viewing {
		return access.Playback
	}
	return access.Export
}

// Create records a provision requested by p, with its hold on the cameras
// × range, in one step: if the hold cannot be placed, nothing is stored.
// p must hold export on every camera's site. A provision without a legal
// basis is refused (provision.basis).
func (s *Service) Create(ctx context.Context, p *access.Principal, in Input) (Provision, error) {
	const op = "provision.Create"
	for _, f := range []*string{&in.Recipient, &in.Letter, &in.Purpose, &in.Statute, &in.Period} {
		*f = strings.TrimSpace(*f)
	}
	if err := Validate(in, func(id string) bool { return s.site(id) != unknownSite }); err != nil {
		return Provision{}, err
	}
	if err := s.allowed(p, access.Export, in.Cameras); err != nil {
		return Provision{}, errs.E(op, err)
	}
	x := Provision{Kind: in.Kind, Recipient: in.Recipient, Letter: in.Letter, Purpose: in.Purpose, Basis: in.Basis,
		Statute: in.Statute, Form: in.Form, Period: in.Period, Cameras: in.Cameras, From: in.From.UTC(), To: in.To.UTC(),
		State: Requested, RequestedBy: p.Name, RequestedAt: s.now()}
	out, err := s.cfg.Store.Create(ctx, x, func(x Provision) error { return s.hold(ctx, &x) })
	if err != nil {
		return Provision{}, errs.E(op, err)
	}
	s.cfg.Logger.Info("provision requested", "provision", out.ID, "kind", out.Kind, "form", out.Form,
		"cameras", len(out.Cameras), "by", out.RequestedBy)
	return out, nil
}

// hold places x's hold.
func (s *Service) hold(ctx context.Context, x *Provision) error {
	if s.cfg.Holds == nil {
		return nil
	}
	what := "제3자 제공"
	if x.Kind == Use {
		what = "목적 외 이용"
	}
	_, err := s.cfg.Holds.Add(ctx, retention.Hold{Owner: retention.OwnerProvision, Ref: x.Ref(),
		Reason: what + " " + x.Letter, Actor: x.RequestedBy, Cameras: x.Cameras, From: x.From, To: x.To})
	return err
}

// release releases x's hold by actor.
func (s *Service) release(ctx context.Context, x *Provision, actor string) error {
	if s.cfg.Holds == nil {
		return nil
	}
	_, err := s.cfg.Holds.ReleaseOwned(ctx, retention.OwnerProvision, x.Ref(), actor)
	return err
}

func (s *Service) isBusy(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[id]
}

func stateErr(op string, x *Provision, want State) error {
	return errs.E(op, errs.Conflict, errs.Code("provision.state"), errs.Params{"state": string(x.State)},
		fmt.Sprintf("provision %d is %s, not %s", x.ID, x.State, want))
}

// Approve records p's approval of provision id. p must hold
// approve-provision on every camera's site and must not be who requested
// it (provision.self): a provision takes two people.
func (s *Service) Approve(ctx context.Context, p *access.Principal, id int64) (Provision, error) {
	const op = "provision.Approve"
	x, err := s.get(ctx, p, id)
	if err != nil {
		return Provision{}, errs.E(op, err)
	}
	if strings.EqualFold(p.Name, x.RequestedBy) {
		return Provision{}, errs.E(op, errs.Permission, errs.Code("provision.self"),
			fmt.Sprintf("%s requested provision %d and may not approve it", p.Name, id))
	}
	if err := s.allowed(p, access.ApproveProvision, x.Cameras); err != nil {
		return Provision{}, errs.E(op, errs.Permission, errs.Code("provision.approver"), err)
	}
	if x.State != Requested {
		return Provision{}, stateErr(op, &x, Requested)
	}
	x.State, x.ApprovedBy, x.ApprovedAt = Approved, p.Name, s.now()
	if err := s.cfg.Store.Update(ctx, x, Requested, nil); err != nil {
		return Provision{}, errs.E(op, err)
	}
	s.cfg.Logger.Info("provision approved", "provision", id, "by", p.Name)
	return x, nil
}

// Refuse records p's refusal of an open provision, with why, and releases
// its hold. p must hold approve-provision on every camera's site.
func (s *Service) Refuse(ctx context.Context, p *access.Principal, id int64, reason string) (Provision, error) {
	const op = "provision.Refuse"
	x, err := s.get(ctx, p, id)
	if err != nil {
		return Provision{}, errs.E(op, err)
	}
	if err := s.allowed(p, access.ApproveProvision, x.Cameras); err != nil {
		return Provision{}, errs.E(op, errs.Permission, errs.Code("provision.approver"), err)
	}
	return s.close(ctx, op, p, x, Refused, reason)
}

// Cancel withdraws an open provision, with why, and releases its hold.
// Who requested it may, and so may anyone who may approve it.
func (s *Service) Cancel(ctx context.Context, p *access.Principal, id int64, reason string) (Provision, error) {
	const op = "provision.Cancel"
	x, err := s.get(ctx, p, id)
	if err != nil {
		return Provision{}, errs.E(op, err)
	}
	if !strings.EqualFold(p.Name, x.RequestedBy) {
		if err := s.allowed(p, access.ApproveProvision, x.Cameras); err != nil {
			return Provision{}, errs.E(op, errs.Permission, errs.Code("provision.approver"), err)
		}
	}
	return s.close(ctx, op, p, x, Cancelled, reason)
}

func (s *Service) close(ctx context.Context, op string, p *access.Principal, x Provision, to State, reason string) (Provision, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Provision{}, invalid("provision.required", "reason", nil)
	}
	if badText(reason, MaxField) {
		return Provision{}, invalid("provision.field", "reason", errs.Params{"max": fmt.Sprint(MaxField)})
	}
	if !x.State.Open() {
		return Provision{}, stateErr(op, &x, Requested)
	}
	if s.isBusy(x.ID) {
		return Provision{}, errs.E(op, errs.Conflict, errs.Code("provision.busy"), "the provision is being produced")
	}
	from := x.State
	now := s.now()
	x.State, x.ClosedBy, x.ClosedAt, x.CloseReason, x.HoldReleased = to, p.Name, now, reason, now
	// The hold goes with the state change: if it cannot be released, the
	// provision stays open.
	if err := s.cfg.Store.Update(ctx, x, from, func(Provision) error { return s.release(ctx, &x, p.Name) }); err != nil {
		return Provision{}, errs.E(op, err)
	}
	s.cfg.Logger.Info("provision closed", "provision", x.ID, "state", to, "by", p.Name)
	return x, nil
}

// Result is a produced provision: for a copy, the package at Path with
// its manifest; for a viewing, the gate's handle (end it with Close).
type Result struct {
	Provision Provision
	Manifest  *export.Manifest
	Path      string
	View      *access.Handle
	Expires   time.Time // when View ends by itself
}

// Produce produces approved provision id as p: a copy's evidence package
// through the exporter, or an on-site viewing's access, either through
// the gate with the ledger row of kind 제공 or 이용, every 관리대장 column
// filled and the letter number as its Ref. A second Produce of the same
// provision at the same time is refused (provision.busy); a failure leaves
// it approved and nothing on disk.
func (s *Service) Produce(ctx context.Context, p *access.Principal, id int64) (*Result, error) {
	const op = "provision.Produce"
	x, err := s.get(ctx, p, id)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if x.State != Approved {
		return nil, stateErr(op, &x, Approved)
	}
	if x.ApprovedBy == "" || strings.EqualFold(x.ApprovedBy, x.RequestedBy) {
		return nil, errs.E(op, errs.Permission, errs.Code("provision.self"), "a provision needs two people")
	}
	if s.cfg.Gate == nil || (x.Form == Copy && (s.cfg.Exporter == nil || s.cfg.Dir == "")) {
		return nil, errs.Errorf(op, errs.Unavailable, "provisions cannot be produced: no gate or exporter")
	}
	s.mu.Lock()
	if s.busy[id] {
		s.mu.Unlock()
		return nil, errs.E(op, errs.Conflict, errs.Code("provision.busy"), "the provision is being produced")
	}
	s.busy[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.busy, id)
		s.mu.Unlock()
	}()

	cams := make([]access.Camera, 0, len(x.Cameras))
	for _, c := range x.Cameras {
		cams = append(cams, access.Camera{ID: c, Site: s.site(c)})
	}
	purpose := access.Purpose{Code: "provision", Reason: x.Purpose}
	if x.Kind == Use {
		purpose.Code = "other"
	}
	res := &Result{}
	if x.Form == Viewing {
		loc := s.loc()
		until := s.cfg.Clock.Now().Add(s.cfg.ViewTTL)
		h, err := s.cfg.Gate.Begin(ctx, p, access.FootageRequest{
			Way: access.WayPlayback, Cameras: cams, From: x.From, To: x.To, Until: until,
			Object: fmt.Sprintf("%s %s–%s (현장 열람)%s", strings.Join(x.Cameras, ","),
				x.From.In(loc).Format("2006-01-02 15:04"), x.To.In(loc).Format("15:04"), s.zonedNote(x.Cameras)),
			Purpose: purpose, Request: x.Letter, Party: x.Recipient, LegalBasis: x.LegalBasis(), Form: x.Form.Korean(),
			Period: x.Period, Kind: x.Kind.LedgerKind(),
		})
		if err != nil {
			return nil, errs.E(op, err)
		}
		res.View, res.Expires = h, until
		x.LedgerSeq = h.Seq()
	} else {
		if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		path := s.packagePath(id)
		os.Remove(path) // a package of an earlier, failed attempt
		m, err := s.cfg.Exporter.Export(ctx, export.GateOf(s.cfg.Gate, p), export.Request{
			Cameras: cams, From: x.From, To: x.To, Recipient: x.Recipient, Purpose: purpose, LegalBasis: x.LegalBasis(),
			Letter: x.Letter, Form: x.Form.Korean(), Period: x.Period, RequestedBy: x.RequestedBy, ApprovedBy: x.ApprovedBy,
			Kind: x.Kind.LedgerKind(),
		}, path)
		if err != nil {
			return nil, errs.E(op, err)
		}
		res.Manifest, res.Path = m, path
		x.LedgerSeq, x.Package = m.LedgerSeq, m.ID
	}
	x.State, x.ProducedBy, x.ProducedAt = Produced, p.Name, s.now()
	if err := s.cfg.Store.Update(ctx, x, Approved, nil); err != nil {
		if res.View != nil {
			res.View.Close()
		}
		if res.Path != "" {
			os.Remove(res.Path)
		}
		return nil, errs.E(op, err)
	}
	s.cfg.Logger.Info("provision produced", "provision", id, "form", x.Form, "ledger_seq", x.LedgerSeq, "by", p.Name)
	res.Provision = x
	return res, nil
}

func (s *Service) loc() *time.Location {
	if s.cfg.Exporter != nil && s.cfg.Exporter.Loc != nil {
		return s.cfg.Exporter.Loc
	}
	if l, err := time.LoadLocation("Asia/Seoul"); err == nil {
		return l
	}
	return time.FixedZone("KST", 9*3600)
}

func (s *Service) packagePath(id int64) string {
	return filepath.Join(s.cfg.Dir, "provision-"+strconv.FormatInt(id, 10)+".zip")
}

// Package returns the path of produced provision id's package and the
// file name to give it, for p holding export on every camera's site,
// while it is kept (PackageKeep after production, and not past a
// restart): afterwards provision.package_gone.
func (s *Service) Package(ctx context.Context, p *access.Principal, id int64) (path, name string, err error) {
	const op = "provision.Package"
	x, err := s.get(ctx, p, id)
	if err != nil {
		return "", "", errs.E(op, err)
	}
	if err := s.allowed(p, access.Export, x.Cameras); err != nil {
		return "", "", errs.E(op, err)
	}
	if x.State != Produced || x.Form != Copy {
		return "", "", stateErr(op, &x, Produced)
	}
	path = s.packagePath(id)
	if _, err := os.Stat(path); err != nil || !s.now().Before(x.ProducedAt.Add(PackageKeep)) || s.cfg.Dir == "" {
		return "", "", errs.E(op, errs.NotExist, errs.Code("provision.package_gone"), "the package is no longer kept")
	}
	return path, x.Package + ".zip", nil
}

// Sweep releases the holds of provisions produced HoldGrace ago and
// removes packages kept PackageKeep. The application runs it every hour.
func (s *Service) Sweep(ctx context.Context) error {
	const op = "provision.Sweep"
	xs, err := s.cfg.Store.List(ctx, true)
	if err != nil {
		return errs.E(op, err)
	}
	now := s.now()
	for _, x := range xs {
		if x.State != Produced {
			continue
		}
		if x.Form == Copy && !now.Before(x.ProducedAt.Add(PackageKeep)) && s.cfg.Dir != "" {
			if err := os.Remove(s.packagePath(x.ID)); err != nil && !os.IsNotExist(err) {
				s.cfg.Logger.Error("removing a provision's package", "provision", x.ID, "err", err)
			}
		}
		if x.HoldReleased.IsZero() && !now.Before(x.ProducedAt.Add(HoldGrace)) {
			y := x
			y.HoldReleased = now
			if err := s.cfg.Store.Update(ctx, y, Produced, func(Provision) error { return s.release(ctx, &y, "system") }); err != nil {
				return errs.E(op, err)
			}
		}
	}
	return nil
}

// zonedNote is what a 현장 열람 row adds when cameras have privacy zones,
// which the viewing shows masked: " — 보호 구역 마스킹: cam-1,cam-2".
func (s *Service) zonedNote(cams []string) string {
	if s.cfg.Zoned == nil {
		return ""
	}
	var zoned []string
	for _, c := range cams {
		if s.cfg.Zoned(c) {
			zoned = append(zoned, c)
		}
	}
	if len(zoned) == 0 {
		return ""
	}
	return " — 보호 구역 마스킹: " + strings.Join(zoned, ",")
}
