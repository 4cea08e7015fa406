package web

import (
	"net/http"
)

// The alarms page: every alarm the reader may see, newest first, or only
// those needing attention; an alarm is acknowledged in the page with an
// optional note (no browser prompt), and an acknowledged one says who and
// when (ui/alarms.js, POST /api/alarms/{id}/ack).
func init() {
	AddPage(&Page{Name: "alarms", Title: "ui.adm.alarms.title", Menu: 30, Scripts: []string{"alarms.js"}, Data: loadAlarmsPage})
}

type alarmsPageData struct {
	Available bool
	Attention bool
	Alarms    []homeAlarm
}

func loadAlarmsPage(s *Server, r *http.Request, pc *PageContext) (any, error) {
	d := &alarmsPageData{Available: s.opt.Alarms != nil, Attention: r.URL.Query().Get("attention") == "1"}
	if !d.Available {
		return d, nil
	}
	vis := s.visibility(r)
	for _, a := range s.opt.Alarms.List(d.Attention) {
		cam, isCam, ok := vis.alarm(a)
		if !ok {
			continue
		}
		ha := homeAlarm{Alarm: a, KindKey: "ui.alarm." + string(a.Kind), Subject: a.Subject}
		if isCam {
			ha.Subject = cam.Name
		}
		d.Alarms = append(d.Alarms, ha)
	}
	return d, nil
}
