package web

import "net/http"

// Playback: pick a date and cameras; a 24-hour timeline per camera from
// GET /api/cameras/{id}/recordings (runs and the gaps between them), holds
// (GET /api/holds, for who may read them) and alarms (GET /api/alarms);
// each view is POST /api/cameras/{id}/views with the sitting's purpose.
// ui/playback.js does the rest.
func init() {
	AddPage(&Page{Name: "playback", Title: "ui.playback.title", Perm: PermPlayback, Menu: 30,
		Scripts: []string{"playback.js"}, Data: loadPlayback})
}

type playbackPage struct {
	Cameras []pageCamera
	Holds   bool // the reader may list holds
	Export  bool // the reader may export (the export dialog, ui/playback.js)
}

func loadPlayback(s *Server, r *http.Request, pc *PageContext) (any, error) {
	return playbackPage{Cameras: camerasFor(s, r, pc, PermPlayback),
		Holds:  s.opt.Retention != nil && pc.Can(PermReadLedger),
		Export: s.opt.Exporter != nil && s.opt.Gate != nil && s.opt.ExportDir != "" && pc.Can(PermExport)}, nil
}
