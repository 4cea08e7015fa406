package web

import (
	"net/http"
	"time"

	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/retention"
)

// The health page: each camera's signal (frame rate, bitrate, last frame),
// the storage volumes, the recent recording gaps, and, for who reads the
// 관리대장, the retention status (the promised period beside the oldest
// footage held) and the monthly report to download.
func init() {
	AddPage(&Page{Name: "health", Title: "ui.adm.health.title", Menu: 55, Data: loadHealthPage})
}

type healthCamera struct {
	health.CameraHealth
	Name, Site string
	StateKey   string
	ByteRate   int64 // bytes per second
}

type volumeRow struct {
	health.VolumeHealth
	Free, Total int64
}

type healthGap struct {
	health.Gap
	Name string
}

type retentionRow struct {
	retention.CameraStatus
	Name, Site string
}

type healthPageData struct {
	Snapshot  bool
	At        time.Time
	Checks    uint64
	Cameras   []healthCamera
	Volumes   []volumeRow
	Gaps      []healthGap
	Retention *retention.Status
	RetRows   []retentionRow
	Report    bool
	Months    []string // the months the report can be asked for, newest first
}

func loadHealthPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &healthPageData{}
	vis := s.visibility(r)
	if s.opt.Health != nil {
		snap := s.opt.Health()
		d.Snapshot, d.At, d.Checks = true, snap.At, snap.Checks
		for _, v := range snap.Volumes {
			d.Volumes = append(d.Volumes, volumeRow{VolumeHealth: v, Free: int64(v.FreeBytes), Total: int64(v.TotalBytes)})
		}
		for _, c := range snap.Cameras {
			ci, _, ok := vis.camera(c.Camera)
			if !ok {
				continue
			}
			hc := healthCamera{CameraHealth: c, Name: c.Camera, StateKey: "ui.state." + c.Status, ByteRate: int64(c.BitrateBPS / 8)}
			if ci.ID != "" {
				hc.Name, hc.Site = ci.Name, siteLabel(ci)
			}
			d.Cameras = append(d.Cameras, hc)
		}
		for i := len(snap.Gaps) - 1; i >= 0; i-- {
			g := snap.Gaps[i]
			ci, _, ok := vis.camera(g.Camera)
			if !ok {
				continue
			}
			hg := healthGap{Gap: g, Name: g.Camera}
			if ci.ID != "" {
				hg.Name = ci.Name
			}
			d.Gaps = append(d.Gaps, hg)
		}
	}
	read := s.scope(r, PermReadLedger)
	if s.opt.Retention != nil && pc.Can(PermReadLedger) {
		st, err := s.opt.Retention.Status(r.Context())
		if err != nil {
			return nil, err
		}
		d.Retention = st
		for _, c := range st.Cameras {
			ci, ok := s.opt.Cameras.Camera(c.Camera)
			site := c.Site
			if ok {
				site = ci.Site
			}
			if !read.has(site) {
				continue
			}
			row := retentionRow{CameraStatus: c, Name: c.Camera, Site: site}
			if ok {
				row.Name, row.Site = ci.Name, siteLabel(ci)
			}
			d.RetRows = append(d.RetRows, row)
		}
	}
	if s.opt.Report != nil && pc.Can(PermReadLedger) {
		d.Report = true
		y, m, _ := pc.Now.In(pc.Zone).Date()
		first := time.Date(y, m, 1, 0, 0, 0, 0, pc.Zone)
		for i := 0; i < 12; i++ {
			d.Months = append(d.Months, first.AddDate(0, -i, 0).Format("2006-01"))
		}
	}
	return d, nil
}
