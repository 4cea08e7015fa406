package app

import (
	"context"
	"time"

	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/requests"
)

// requestCalendar is the calendar of the requests' clock: the
// institution's zone and the public holidays its registry names
// (organization.holidays), which move an answer's last day as weekends do.
func requestCalendar(reg *registry.Registry, loc *time.Location) requests.Calendar {
	cal := requests.Calendar{Zone: loc}
	if reg != nil && len(reg.Organization.Holidays) > 0 {
		cal.Holidays = map[string]bool{}
		for _, d := range reg.Organization.Holidays {
			cal.Holidays[d.String()] = true
		}
	}
	return cal
}

// dueCheckEvery is how often the requests' clock looks for requests due
// soon or overdue (the alarm request_due).
const dueCheckEvery = time.Minute

// startDueAlarms checks the requests' due dates at start and every
// dueCheckEvery on the app's clock, raising and clearing their alarms,
// until ctx ends. It runs in the requests' sweep group.
func (a *App) startDueAlarms(ctx context.Context, p *requestParts) {
	if a.alarms == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			if err := p.svc.CheckDue(ctx, a.alarms); err != nil && ctx.Err() == nil {
				a.log.Error("checking data-subject requests' due dates", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-a.clk.After(dueCheckEvery):
			}
		}
	}()
}
