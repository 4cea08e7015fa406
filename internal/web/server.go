// Package web is gwanje's HTTP server: authentication and authorization of
// every route, footage routes that go through the one gate (access.Gate:
// purpose, ledger row before the first byte, revocable access), the public
// policy pages, and the page. web writes no ledger entry itself.
//
// Every route is in one table (routes) with its access rule; the
// authorization matrix test walks that table, so a route cannot be added
// without saying who may use it.
package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/requests"
)

//go:embed ui
var uiFS embed.FS

// Principal is the authenticated user of a request.
type Principal struct {
	User    string
	Role    string // the role's Korean name, as recorded in the ledger
	Session string // an opaque id of the login session (binds view URLs)
	// MustChangePassword restricts the session to changing the password.
	MustChangePassword bool
	// Lang is the user's own language of the UI ("ko", "en"; "" = not
	// chosen: the browser's cookie decides).
	Lang string
	// native is the Guard's own principal, for its handlers.
	native any
}

// Perm is a permission of the access matrix (docs/design/access.md).
type Perm string

// The permissions web routes ask for. Values are the access package's
// permission names.
const (
	PermLiveView       Perm = "live-view"
	PermPlayback       Perm = "playback"
	PermExport         Perm = "export"
	PermReadLedger     Perm = "read-ledger"
	PermManageUsers    Perm = "manage-users"
	PermManageRegistry Perm = "manage-registry"
	PermHandleRequests Perm = "handle-requests"
)

// Guard authenticates and authorizes requests. The access package
// implements it; tests use a fake.
type Guard interface {
	// Authenticate returns the principal of the request's session, or an
	// errs.Unauthorized error.
	Authenticate(r *http.Request) (*Principal, error)
	// CheckCSRF checks the request's CSRF token against p's session.
	CheckCSRF(r *http.Request, p *Principal) error
	// Authorize checks that p holds perm for site now, from the request's
	// client network. site "" means "for at least one site". It returns
	// errs.Permission or errs.Private when not allowed.
	Authorize(r *http.Request, p *Principal, perm Perm, site string) error
	// WithPrincipal returns ctx carrying p the way the Guard's own account
	// handlers expect it.
	WithPrincipal(ctx context.Context, p *Principal) context.Context
}

// CameraInfo is what web knows of a camera from the registry.
type CameraInfo struct {
	ID   string
	Name string
	Site string
	// SiteName is the site's name for people ("" shows the id).
	SiteName string
}

// Cameras is what web needs from the registry and the recorder.
type Cameras interface {
	// Camera returns a registered camera.
	Camera(id string) (CameraInfo, bool)
	// List returns every registered camera.
	List() []CameraInfo
	// State returns a recording camera's ingest state.
	State(id string) (ingest.State, bool)
	// Subscribe returns a live feed of a recording camera.
	Subscribe(id string) (Feed, bool)
}

// Feed is a live feed of a recording camera's frames.
type Feed interface {
	Frames() <-chan ingest.LiveFrame
	Close()
}

// SubscriptionFeed is the Feed of a recorder's subscription.
func SubscriptionFeed(s *ingest.Subscription) Feed { return subscriptionFeed{s} }

type subscriptionFeed struct{ s *ingest.Subscription }

func (f subscriptionFeed) Frames() <-chan ingest.LiveFrame { return f.s.C }
func (f subscriptionFeed) Close()                          { f.s.Close() }

// Options configure a Server.
type Options struct {
	Guard Guard
	// Gate is the one way to footage: the footage routes (views, live,
	// stills) exist only when it is set.
	Gate *access.Gate
	// Acks records alarm acknowledgements (required with Alarms).
	Acks Acks
	// Accounts serves the account routes (login, sessions, passwords,
	// TOTP, users; web/accounts.go); nil: none.
	Accounts *access.Service
	Cameras  Cameras
	Footage  playback.Source
	// Summaries lists the oldest and newest footage per camera.
	Summaries func(ctx context.Context) (map[string][2]time.Time, error)
	// Ledger is where the 관리대장 routes write their own rows (the
	// 관리책임자's sign-off, a registry change). Footage rows are the
	// gate's, never web's.
	Ledger ledger.Appender
	// Retention serves the retention status and holds (may be nil).
	Retention Retention
	// Policy serves the public /policy pages (may be nil).
	Policy http.Handler
	// ViewTTL is how long a view URL stays valid (default 1 h).
	ViewTTL time.Duration
	// MaxSpan is the longest playback range (default 6 h).
	MaxSpan time.Duration
	// Monitoring (each optional: its routes exist only when it is set).
	// Alarms serves GET /api/alarms and the acknowledgement; Health the
	// dashboard's snapshot (GET /api/health); Report the monthly report
	// (GET /api/health/report, health.ReportHandler); Stills the kept
	// still frames of the scheduled checks.
	Alarms *alarm.Manager
	Health func() health.Snapshot
	Report http.Handler
	Stills Stills
	// Metrics serves GET /metrics. With MetricsPerm set it needs a session
	// holding that permission; without, the route is public to web and
	// the handler itself must refuse strangers (metrics.Handler with a
	// token or a network allowlist).
	Metrics     http.Handler
	MetricsPerm Perm
	// Admin serves the administrative routes (admin.go).
	Admin Admin
	// Exporter makes evidence packages (POST /api/cameras/{id}/exports,
	// web/exports.go) in ExportDir, removed once sent; either unset: no
	// route.
	Exporter  *export.Exporter
	ExportDir string
	// Requests serves the data-subject requests' routes (requests.go):
	// the public form and status lookup, the staff's list and steps.
	Requests *requests.Service
	// Provisions serves the provision workflow's routes and page
	// (provisions.go): 제3자 제공 and 목적 외 이용; nil: none.
	Provisions *provision.Service
	// Transcode is the ffmpeg that converts H.265 views to H.264 for
	// browsers (transcode.go); "" leaves them as they are.
	Transcode string
	// Location is the institution's time zone: every page and export
	// prints its times in it (default Asia/Seoul).
	Location *time.Location
	// TLS reports whether the server is behind TLS (cookies get Secure).
	TLS    bool
	Clock  clock.Clock
	Logger *slog.Logger
}

// Server is the HTTP handler of gwanje.
type Server struct {
	opt   Options
	log   *slog.Logger
	clk   clock.Clock
	mux   *http.ServeMux
	table []route

	mu    sync.Mutex
	views map[string]*view // view token → granted viewing

	ackMu sync.Mutex // one alarm acknowledgement at a time

	adm adminState // the administrative routes' state (admin.go)
}

// New builds the server.
func New(opt Options) (*Server, error) {
	const op = "web.New"
	if opt.Guard == nil || opt.Cameras == nil || opt.Footage == nil || opt.Ledger == nil {
		return nil, errs.E(op, errs.Invalid, "guard, cameras, footage and ledger are required")
	}
	if opt.Alarms != nil && opt.Acks == nil {
		return nil, errs.E(op, errs.Invalid, "alarms need acks")
	}
	if opt.ViewTTL <= 0 {
		opt.ViewTTL = time.Hour
	}
	if opt.MaxSpan <= 0 {
		opt.MaxSpan = 6 * time.Hour
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Server{opt: opt, log: opt.Logger, clk: opt.Clock, mux: http.NewServeMux(), views: map[string]*view{}}
	s.table = s.routes()
	for _, rt := range s.table {
		s.mux.Handle(rt.pattern, s.guard(rt))
	}
	return s, nil
}

// ServeHTTP implements http.Handler, adding the security headers every
// response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	if s.opt.TLS {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

// uiHandler serves the embedded page.
func uiHandler() http.Handler {
	sub, _ := fs.Sub(uiFS, "ui")
	return http.StripPrefix("/ui/", http.FileServer(http.FS(sub)))
}
