package requests

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/retention"
)

// Holder places and releases the holds a request owns (retention.Holds).
type Holder interface {
	Add(ctx context.Context, x retention.Hold) (retention.Hold, error)
	ReleaseOwned(ctx context.Context, owner retention.Owner, ref, actor string) (int, error)
}

// Retention of what a request keeps (docs/design/requests.md).
const (
	// KeepPersonalYears: a closed request's personal data is forgotten
	// this many years after it closed.
	KeepPersonalYears = 3
	// HoldGrace: a request's hold lasts this long after it closes, for an
	// objection to the answer.
	HoldGrace = 30 * 24 * time.Hour
)

// Default rate limits per client address and hour.
const (
	DefaultSubmitPerHour = 5
	DefaultLookupPerHour = 20
)

// Config configures a Service.
type Config struct {
	Store    Store
	Calendar Calendar
	// Holds places the request's hold; nil places none (tests).
	Holds Holder
	// Camera names a camera's site; ok false for an unknown camera.
	Camera func(id string) (site string, ok bool)
	Clock  clock.Clock
	Logger *slog.Logger
	// Ledger receives a row for every step (nil: none, for tests).
	Ledger ledger.Appender
	// Holders counts the holders of handle-requests on a site ("" every
	// site): the four-eyes rule of Decide. Nil: not applied.
	Holders func(ctx context.Context, site string) (int, error)
	// Footage answers 존재확인 from the segment index.
	Footage FootageIndex
	// Destroyer deletes a request's range (retention's engine).
	Destroyer Destroyer
	// Per client address and hour; 0 means the default.
	SubmitPerHour, LookupPerHour int
}

// Service takes, answers and forgets requests.
type Service struct {
	cfg    Config
	log    *slog.Logger
	submit *limiter
	lookup *limiter
	// dummy is a request of no one, compared against on a lookup of an
	// unknown receipt number so that it takes the path a wrong phone does.
	dummy Personal
	views viewSet
	locks requestLocks
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SubmitPerHour == 0 {
		cfg.SubmitPerHour = DefaultSubmitPerHour
	}
	if cfg.LookupPerHour == 0 {
		cfg.LookupPerHour = DefaultLookupPerHour
	}
	return &Service{cfg: cfg, log: cfg.Logger, submit: newLimiter(cfg.SubmitPerHour, time.Hour),
		lookup: newLimiter(cfg.LookupPerHour, time.Hour), dummy: Personal{Requester: Person{Phone: "00000000000"}}}
}

// Calendar is the service's calendar.
func (s *Service) Calendar() Calendar { return s.cfg.Calendar }

func rateErr(op string) error {
	return errs.E(op, errs.Unavailable, errs.Code("requests.rate"), "too many requests from this address")
}

// Submit takes a request from the public page (intake "" ) or from staff
// (intake: the staff member's name): validates it, stores it with its
// personal data sealed, and places its hold on the requested cameras ×
// period (none for a described place, until staff name the cameras). The
// request and its hold are one step: if the hold cannot be placed, the
// request is not stored.
func (s *Service) Submit(ctx context.Context, in Input, client netip.Addr, intake string) (Request, error) {
	const op = "requests.Submit"
	now := s.cfg.Clock.Now()
	if intake == "" && !s.submit.allow(client.String(), now) {
		return Request{}, rateErr(op)
	}
	zone := s.cfg.Calendar.zone()
	if err := Validate(in, now, zone, s.cfg.Camera); err != nil {
		return Request{}, err
	}
	site := in.Site
	if site == "" && len(in.Cameras) > 0 && s.cfg.Camera != nil {
		site, _ = s.cfg.Camera(in.Cameras[0])
	}
	r := Request{Types: in.Types, From: in.From, To: in.To, Site: site, Cameras: in.Cameras, Channel: "web",
		Intake: intake, Received: now, Due: s.cfg.Calendar.Due(now), State: Received}
	if intake != "" {
		r.Channel = "staff"
	}
	out, err := s.cfg.Store.Create(ctx, r, now.In(zone).Year(), NewCheck(), in.Personal, func(r Request) error {
		if err := s.hold(ctx, r); err != nil {
			return err
		}
		// Inside the store's transaction: the personal data is at hand,
		// not read back (the store's one connection is the transaction's).
		e := entry(ledger.RequestReceived, r, Actor{User: intake}, "received", "접수 ("+channelKorean(r.Channel)+")",
			"channel="+r.Channel, nil, in.Personal, true)
		if err := s.record(ctx, op, e); err != nil {
			if s.cfg.Holds != nil && len(r.Cameras) > 0 {
				s.cfg.Holds.ReleaseOwned(ctx, retention.OwnerRequest, r.Receipt, "system")
			}
			return err
		}
		return nil
	})
	if err != nil {
		return Request{}, errs.E(op, err)
	}
	s.log.Info("data-subject request received", "request", out.Receipt, "channel", out.Channel,
		"cameras", len(out.Cameras), "due", out.Due.In(zone).Format(time.RFC3339))
	return out, nil
}

// hold places r's hold when r names cameras.
func (s *Service) hold(ctx context.Context, r Request) error {
	if s.cfg.Holds == nil || len(r.Cameras) == 0 {
		return nil
	}
	_, err := s.cfg.Holds.Add(ctx, retention.Hold{Owner: retention.OwnerRequest, Ref: r.Receipt,
		Reason: "열람등 요구 " + r.Receipt, Cameras: r.Cameras, From: r.From, To: r.To})
	return err
}

// Status is what the requester may learn of their request.
type Status struct {
	Receipt   string    `json:"receipt"`
	Types     []Type    `json:"types"`
	Received  time.Time `json:"received"`
	Due       time.Time `json:"due"`
	Postponed bool      `json:"postponed"`
	State     State     `json:"state"`
}

// Lookup returns the status of the request with that receipt number whose
// 청구인 has that phone. A wrong phone and an unknown number are the same
// errs.Private error, reached by the same work (a sealed record opened
// and a constant-time comparison), so neither the answer nor its shape
// tells one from the other.
func (s *Service) Lookup(ctx context.Context, receipt, phone string, client netip.Addr) (Status, error) {
	const op = "requests.Lookup"
	now := s.cfg.Clock.Now()
	if !s.lookup.allow(client.String(), now) {
		return Status{}, rateErr(op)
	}
	notFound := errs.E(op, errs.Private, errs.Code("requests.lookup"), "no request with that receipt number and phone")
	var r Request
	var ok bool
	var err error
	// Read over the phone or copied by hand: lower case and stray spaces
	// are the same number.
	receipt = strings.ToUpper(strings.TrimSpace(receipt))
	if ValidReceipt(receipt) {
		if r, ok, err = s.cfg.Store.ByReceipt(ctx, receipt); err != nil {
			return Status{}, errs.E(op, err)
		}
	}
	id := r.ID
	if !ok {
		id = -1
	}
	p, have, err := s.cfg.Store.Personal(ctx, id)
	if err != nil {
		return Status{}, errs.E(op, err)
	}
	if !have {
		p = s.dummy
	}
	want, got := NormalizePhone(p.Requester.Phone), NormalizePhone(phone)
	match := subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
	if !ok || !have || !match || got == "" {
		return Status{}, notFound
	}
	return Status{Receipt: r.Receipt, Types: r.Types, Received: r.Received, Due: r.Due,
		Postponed: !r.Postponed.IsZero(), State: r.State}, nil
}

// channelKorean names how a request came.
func channelKorean(c string) string {
	if c == "staff" {
		return "방문·전화·우편"
	}
	return "누리집"
}

// Postpone moves request id's due time to the end of day, with reason.
func (s *Service) Postpone(ctx context.Context, id int64, day time.Time, reason string, who Actor) (Request, error) {
	const op = "requests.Postpone"
	defer s.lockRequest(id)()
	r, ok, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return Request{}, errs.E(op, err)
	}
	if !ok {
		return Request{}, errs.Errorf(op, errs.NotExist, "no request %d", id)
	}
	if r, err = s.cfg.Calendar.Postpone(r, day, reason, s.cfg.Clock.Now()); err != nil {
		return Request{}, err
	}
	// The reason goes to the notice, not to the ledger (staff words can
	// name people): the row has the new due time.
	if err := s.record(ctx, op, s.row(ctx, ledger.RequestDecided, r, who, "postpone", "연기",
		"due="+r.Due.UTC().Format(time.RFC3339), nil)); err != nil {
		return Request{}, err
	}
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return Request{}, errs.E(op, err)
	}
	s.log.Info("data-subject request postponed", "request", r.Receipt, "by", who.User,
		"due", r.Due.In(s.cfg.Calendar.zone()).Format(time.RFC3339))
	return r, nil
}

// Sweep releases the holds of requests closed more than HoldGrace ago and
// forgets the personal data of those closed more than KeepPersonalYears
// ago. Run it daily (and at start).
func (s *Service) Sweep(ctx context.Context) error {
	const op = "requests.Sweep"
	now := s.cfg.Clock.Now()
	if s.cfg.Holds != nil {
		all, err := s.cfg.Store.List(ctx, true)
		if err != nil {
			return errs.E(op, err)
		}
		for _, r := range all {
			if r.State == Closed && !now.Before(r.ClosedAt.Add(HoldGrace)) {
				n, err := s.cfg.Holds.ReleaseOwned(ctx, retention.OwnerRequest, r.Receipt, "system")
				if err != nil {
					return errs.E(op, err)
				}
				if n > 0 {
					s.log.Info("data-subject request's hold released after its grace", "request", r.Receipt)
				}
			}
		}
	}
	ids, err := s.cfg.Store.Forget(ctx, now.AddDate(-KeepPersonalYears, 0, 0), now)
	if err != nil {
		return errs.E(op, err)
	}
	if len(ids) > 0 {
		s.log.Info("data-subject requests' personal data forgotten", "requests", len(ids))
	}
	return nil
}

// limiter counts events per key in a sliding window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, seen: map[string][]time.Time{}}
}

// allow records an event of key at now and reports whether it is within
// the limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 10000 { // bound memory: drop the expired
		for k, ts := range l.seen {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.window {
				delete(l.seen, k)
			}
		}
	}
	ts := l.seen[key]
	kept := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.max {
		l.seen[key] = kept
		return false
	}
	l.seen[key] = append(kept, now)
	return true
}

// Get returns request id.
func (s *Service) Get(ctx context.Context, id int64) (Request, bool, error) {
	return s.cfg.Store.Get(ctx, id)
}

// List returns the open requests, or all of them.
func (s *Service) List(ctx context.Context, all bool) ([]Request, error) {
	return s.cfg.Store.List(ctx, all)
}

// MaxIdentity bounds the identity check's texts.
const MaxIdentity = 200

// RecordIdentity records the identity check of request id by actor: what
// was checked (required), and the proxy documents, required when the
// requester is not the data subject (relation other than 본인). The
// identity check is of people present or on paper: its record names
// documents, never their numbers.
func (s *Service) RecordIdentity(ctx context.Context, id int64, method, proxy string, who Actor) (Request, error) {
	const op = "requests.RecordIdentity"
	defer s.lockRequest(id)()
	r, ok, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return Request{}, errs.E(op, err)
	}
	if !ok {
		return Request{}, errs.Errorf(op, errs.NotExist, "no request %d", id)
	}
	if r.State == Closed {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.closed"), "request is closed")
	}
	if err := checkText("method", method, MaxIdentity, true); err != nil {
		return Request{}, err
	}
	if err := checkText("proxy", proxy, MaxIdentity, false); err != nil {
		return Request{}, err
	}
	p, have, err := s.cfg.Store.Personal(ctx, id)
	if err != nil {
		return Request{}, errs.E(op, err)
	}
	if have && strings.TrimSpace(proxy) == "" && !isSelf(p) {
		return Request{}, invalid("requests.proxy", "proxy", nil)
	}
	r.IdentityMethod, r.IdentityProxy, r.IdentityBy, r.IdentityAt = method, proxy, who.User, s.cfg.Clock.Now()
	// The documents are named in the request, not in the ledger.
	if err := s.record(ctx, op, s.row(ctx, ledger.RequestReceived, r, who, "identity", "신원 확인",
		fmt.Sprintf("proxy=%t", proxy != ""), nil)); err != nil {
		return Request{}, err
	}
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return Request{}, errs.E(op, err)
	}
	s.log.Info("data-subject request's identity checked", "request", r.Receipt, "by", who.User, "proxy", proxy != "")
	return r, nil
}

// isSelf reports whether the requester is the data subject.
func isSelf(p Personal) bool {
	rel := strings.TrimSpace(p.Requester.Relation)
	return rel == "본인" || strings.EqualFold(rel, "self")
}

// Personal returns request id's personal data, for the staff who handle
// it (false once forgotten).
func (s *Service) Personal(ctx context.Context, id int64) (Personal, bool, error) {
	return s.cfg.Store.Personal(ctx, id)
}
