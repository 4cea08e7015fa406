package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"time"

	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/web"
)

// startWeb builds the web server on everything started before it, listens
// on cfg.Listen and serves.
func (a *App) startWeb() error {
	cfg, log := a.cfg, a.log
	opt := web.Options{
		Guard:    web.AccessGuard{S: a.access, Clock: a.clk},
		Gate:     a.gate,
		Acks:     a.access,
		Accounts: a.access,
		Cameras:  appCameras{a},
		Footage:  playback.StoreSource{Store: a.store},
		Summaries: func(ctx context.Context) (map[string][2]time.Time, error) {
			sums, err := a.store.Cameras(ctx)
			if err != nil {
				return nil, err
			}
			out := map[string][2]time.Time{}
			for _, s := range sums {
				out[s.Camera] = [2]time.Time{media.FromTime90k(s.Oldest).UTC(), media.FromTime90k(s.Newest).UTC()}
			}
			return out, nil
		},
		Ledger:   a.ledger,
		Location: a.loc,
		// H.265 views are converted for browsers when ffmpeg is installed.
		Transcode: lookFFmpeg(),
		Policy:    a.policy.Handler(log.With("component", "policy")),
		TLS:       cfg.TLSCert != "",
		Clock:     a.clk,
		Logger:    log.With("component", "web"),
	}
	a.healthWebOptions(&opt)
	if err := a.exportWebOptions(&opt); err != nil {
		return err
	}
	if err := a.provisionWebOptions(&opt); err != nil {
		return err
	}
	a.adminWebOptions(&opt)
	if a.retention != nil {
		opt.Retention = webRetention{a.retention.engine}
	}
	if a.requests != nil {
		opt.Requests = a.requests.svc
	}
	var err error
	if a.web, err = web.New(opt); err != nil {
		return err
	}
	a.onClose(func() { a.web.Close() })
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return err
	}
	a.srv = newHTTPServer(a.web, a.timeouts, log)
	served := make(chan struct{})
	go func() {
		defer close(served)
		var err error
		if cfg.TLSCert != "" {
			err = a.srv.ServeTLS(a.ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = a.srv.Serve(a.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	a.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.srv.Shutdown(ctx)
		cancel()
		<-served
	})
	return nil
}

// appCameras answers web's questions about cameras from the registry and
// the recorder.
type appCameras struct{ a *App }

func (c appCameras) Camera(id string) (web.CameraInfo, bool) {
	if c.a.reg == nil {
		return web.CameraInfo{}, false
	}
	site, group, cam, ok := c.a.reg.Camera(id)
	if !ok {
		return web.CameraInfo{}, false
	}
	name := cam.Name
	if name == "" {
		name = group.Location
	}
	return web.CameraInfo{ID: id, Name: name, Site: site.ID, SiteName: site.Name}, true
}

func (c appCameras) List() []web.CameraInfo {
	var out []web.CameraInfo
	if c.a.reg == nil {
		return out
	}
	for _, sc := range c.a.reg.StreamCameras() {
		if ci, ok := c.Camera(sc.ID); ok {
			out = append(out, ci)
		}
	}
	return out
}

func (c appCameras) State(id string) (ingest.State, bool) {
	sup, ok := c.a.rec.Supervisor(id)
	if !ok {
		return ingest.State{}, false
	}
	return sup.State(), true
}

func (c appCameras) Subscribe(id string) (web.Feed, bool) {
	sup, ok := c.a.rec.Supervisor(id)
	if !ok {
		return nil, false
	}
	return web.SubscriptionFeed(sup.Subscribe(64)), true
}

// lookFFmpeg is the ffmpeg on PATH, or "" (H.265 views are then offered
// for download only).
func lookFFmpeg() string {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return ""
	}
	return p
}
