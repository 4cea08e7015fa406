package web

import (
	"context"
	"io"
	"net/http"
	"os"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
)

// Privacy zones in live view and playback (docs/design/masking.md,
// decision 53): a camera's privacy zones are shown unmasked only to a
// 관리책임자 (the grant that allows the view is the manager role's); for
// everyone else the view goes through ffmpeg with the zones masked, and
// its ledger row says so. Without ffmpeg such a view is refused, never
// shown unmasked. A plain export (a copy of the recorded footage) of a
// camera with zones by anyone but a 관리책임자 is refused: a copy for
// them is a masked export.

// ZoneCameras is a Cameras that knows the cameras' privacy zones (the
// registry's privacy_zones). A Cameras without it has none.
type ZoneCameras interface {
	PrivacyZones(camera string) []mask.Zone
}

// Ledger forms and objects of a view with the zones masked.
const (
	maskedPlayback = "재생 열람(마스킹)"
	maskedLive     = "실시간 열람(마스킹)"
	maskedStill    = "정지화상 열람(마스킹)"
	maskedSuffix   = " (보호 구역 마스킹)"
)

// zoneStyle is how a zone is hidden in a view: solid, so that nothing of
// it can be made out, whatever the picture's size.
const zoneStyle = mask.Fill

// privacyZones returns camera's privacy zones.
func (s *Server) privacyZones(camera string) []mask.Zone {
	if zc, ok := s.opt.Cameras.(ZoneCameras); ok {
		return zc.PrivacyZones(camera)
	}
	return nil
}

// seesZones reports whether the request's principal sees the privacy
// zones of site's cameras unmasked under perm: only when the grant that
// allows it is a 관리책임자's. A Guard that cannot say which grant
// allows it sees them masked.
func (s *Server) seesZones(r *http.Request, perm access.Perm, site string) bool {
	g, ok := s.opt.Guard.(AccessGuard)
	if !ok || g.S == nil {
		return false
	}
	ap, err := nativeOf(principal(r))
	if err != nil {
		return false
	}
	role, err := g.S.AuthorizeRole(ap, perm, site)
	return err == nil && role == access.Manager
}

// zonesToMask returns the zones to mask in a view of cam under perm by the
// request's principal (nil: none), or an error when they must be masked
// and this server cannot (no ffmpeg).
func (s *Server) zonesToMask(r *http.Request, cam CameraInfo, perm access.Perm) ([]mask.Zone, error) {
	const op = "web.zones"
	zones := s.privacyZones(cam.ID)
	if len(zones) == 0 || s.seesZones(r, perm, cam.Site) {
		return nil, nil
	}
	if s.opt.Transcode == "" {
		return nil, errs.E(op, errs.Unavailable, errs.Code("zones.ffmpeg"), errs.Params{"camera": cam.ID},
			"the camera's privacy zones must be masked for this role and ffmpeg is not installed")
	}
	return zones, nil
}

// zonesHeld checks, once the gate has granted a view, that the role it
// granted it under is the one the masking was decided for: an unmasked
// view of a camera with zones must be a 관리책임자's.
func (s *Server) zonesHeld(h *access.Handle, camera string, zones []mask.Zone) error {
	if zones != nil || len(s.privacyZones(camera)) == 0 || h.Entry.Role == access.Manager.Korean() {
		return nil
	}
	h.Close()
	return errs.E("web.zones", errs.Permission, errs.Code("zones.role"), errs.Params{"camera": camera},
		"the role changed while the view was granted")
}

// zonesAllowExport refuses a plain export of a camera with privacy zones
// by anyone but a 관리책임자 of its site.
func (s *Server) zonesAllowExport(r *http.Request, cams []access.Camera) error {
	for _, c := range cams {
		if len(s.privacyZones(c.ID)) > 0 && !s.seesZones(r, access.Export, c.Site) {
			return errs.E("web.zones", errs.Permission, errs.Code("zones.export"), errs.Params{"camera": c.ID},
				"a copy of a camera with privacy zones by this role must be a masked export")
		}
	}
	return nil
}

// startMasked starts ffmpeg masking zones on a picture of params' size;
// stop waits for it and removes its files.
func (s *Server) startMasked(ctx context.Context, w http.ResponseWriter, live bool, zones []mask.Zone, params *media.Params) (t *transcoder, stop func(), err error) {
	const op = "web.startMasked"
	W, H, err := params.Size()
	if err != nil {
		return nil, nil, errs.E(op, err)
	}
	dir, err := os.MkdirTemp("", "gwanje-zones-*")
	if err != nil {
		return nil, nil, errs.E(op, errs.IO, err)
	}
	f, err := mask.NewZoneFilter(zones, zoneStyle, W, H, dir)
	if err == nil {
		t, err = s.startTranscode(ctx, w, live, f.Args()...)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, errs.E(op, errs.Unavailable, errs.Code("zones.ffmpeg"), err)
	}
	return t, func() {
		if err := t.finish(); err != nil && ctx.Err() == nil {
			s.log.Warn("ffmpeg masking zones", "err", err)
		}
		os.RemoveAll(dir)
	}, nil
}

// serveMasked answers a playback view with the zones masked: the whole
// view from its start as fragmented H.264, no byte ranges.
func (s *Server) serveMasked(w http.ResponseWriter, r *http.Request, v *view, segment int64, src io.Reader) {
	h := w.Header()
	h.Del("ETag")
	h.Set("X-Gwanje-Form", "masked")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	sd, err := s.opt.Footage.Open(v.h.Context(), segment)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	params := sd.Params()
	sd.Close()
	t, stop, err := s.startMasked(r.Context(), w, false, v.zones, params)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(t, src); err != nil {
		s.log.Info("masked playback ended", "err", err)
	}
	stop()
}

// zonesForOutsiders returns the zones to mask in a view that someone from
// outside the institution watches: the data subject at an on-site 열람 of
// their request, or a third party at a provision's 현장 열람. Their zones
// are masked whoever shows them — a 관리책임자 included —, since the
// viewer is not the one who may check where the zones lie (decision 54).
// An error when there are zones and this server cannot mask (no ffmpeg).
func (s *Server) zonesForOutsiders(camera string) ([]mask.Zone, error) {
	zones := s.privacyZones(camera)
	if len(zones) == 0 {
		return nil, nil
	}
	if s.opt.Transcode == "" {
		return nil, errs.E("web.zones", errs.Unavailable, errs.Code("zones.ffmpeg"), errs.Params{"camera": camera},
			"the camera's privacy zones must be masked for an outside viewer and ffmpeg is not installed")
	}
	return zones, nil
}
