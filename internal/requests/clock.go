package requests

import (
	"context"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
)

// AnswerDays is the period of an answer: 10 days (개인정보 보호법 시행령
// 제41조④, the form's 처리기한 10일 이내).
const AnswerDays = 10

// DueSoonDays: a request is due soon from this many days before its due
// time.
const DueSoonDays = 3

// Calendar counts the days of a request's clock in the institution's zone
// as the Civil Act counts a period in days (민법 제157조, 제161조; the
// Framework Act on Administration 제6조 applies it to public bodies): the
// day of receipt does not count, the period ends at the end (24:00) of its
// last day, and a last day that is a Saturday, a Sunday or a public holiday
// moves the end to the end of the next day that is none of them
// (docs/design/requests.md).
type Calendar struct {
	Zone *time.Location
	// Holidays are the public holidays ("2026-10-05"), in the zone.
	Holidays map[string]bool
}

func (c Calendar) zone() *time.Location {
	if c.Zone == nil {
		return time.UTC
	}
	return c.Zone
}

func (c Calendar) dayOff(d time.Time) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday || c.Holidays[d.Format("2006-01-02")]
}

// midnight is the start of the day of t in the zone.
func (c Calendar) midnight(t time.Time) time.Time {
	t = t.In(c.zone())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.zone())
}

// Due is when an answer to a request received at received is due: the
// first instant after the period (midnight ending its last day).
func (c Calendar) Due(received time.Time) time.Time {
	last := c.midnight(received).AddDate(0, 0, AnswerDays)
	return c.endOf(last)
}

// endOf is the end of day (00:00 of the next), moved past days off.
func (c Calendar) endOf(day time.Time) time.Time {
	for c.dayOff(day) {
		day = day.AddDate(0, 0, 1)
	}
	return day.AddDate(0, 0, 1)
}

// Postponed is the due time of a request postponed to the date day (its
// end, moved past days off as Due is).
func (c Calendar) Postponed(day time.Time) time.Time { return c.endOf(c.midnight(day)) }

// Urgency is where a request stands against its clock.
type Urgency string

const (
	OnTime  Urgency = "on_time"
	DueSoon Urgency = "due_soon"
	Overdue Urgency = "overdue"
	Done    Urgency = "closed"
)

// Urgency of r at now: closed requests are Done; an open one is Overdue
// from its due time, DueSoon from DueSoonDays calendar days before it.
func (c Calendar) Urgency(r Request, now time.Time) Urgency {
	switch {
	case r.State == Closed:
		return Done
	case !now.Before(r.Due):
		return Overdue
	case !now.Before(r.Due.In(c.zone()).AddDate(0, 0, -DueSoonDays)):
		return DueSoon
	}
	return OnTime
}

// Postpone moves r's due time to the end of day (연기, 개인정보 보호법
// 제35조③): it needs a reason, an open request, and a day whose end is
// after the current due time.
func (c Calendar) Postpone(r Request, day time.Time, reason string, now time.Time) (Request, error) {
	const op = "requests.Postpone"
	if r.State == Closed {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.closed"), "request is closed")
	}
	if err := checkText("reason", reason, MaxPurpose, true); err != nil {
		return r, err
	}
	due := c.Postponed(day)
	if !due.After(r.Due) {
		return r, errs.E(op, errs.Invalid, errs.Code("requests.postpone_date"), errs.Params{"field": "date"},
			"postponed due time is not after the current one")
	}
	r.Due, r.PostponeReason, r.Postponed = due, reason, now
	return r, nil
}

// Alarms is where the clock raises and clears its alarm (alarm.Manager).
type Alarms interface {
	RaiseMsg(kind alarm.Kind, subject string, sev alarm.Severity, msg alarm.Msg) (alarm.Alarm, bool)
	Clear(kind alarm.Kind, subject string) (alarm.Alarm, bool)
}

// CheckDue raises the alarm alarm.RequestDue, subject the receipt number,
// for every open request due soon (a warning) or overdue (critical), and
// clears it for a request that is closed or back on time (postponed).
// The Manager keeps one alarm per (kind, subject) while it is active and
// restores the active ones at start, so checking again, before or after a
// restart, raises nothing new: an alarm is raised once per request and
// condition, and its severity rises from warning to critical when the due
// time passes. The message names the receipt number and the due date,
// never the person. Run it at start and every minute (app).
func (s *Service) CheckDue(ctx context.Context, a Alarms) error {
	const op = "requests.CheckDue"
	all, err := s.cfg.Store.List(ctx, true)
	if err != nil {
		return errs.E(op, err)
	}
	now := s.cfg.Clock.Now()
	cal := s.cfg.Calendar
	for _, r := range all {
		// The last day of the period, as the form and the pages print it.
		due := r.Due.In(cal.zone()).Add(-time.Nanosecond).Format("2006-01-02")
		switch cal.Urgency(r, now) {
		case Overdue:
			a.RaiseMsg(alarm.RequestDue, r.Receipt, alarm.Critical, alarm.M("alarm.msg.request_overdue",
				"receipt", r.Receipt, "due", due))
		case DueSoon:
			a.RaiseMsg(alarm.RequestDue, r.Receipt, alarm.Warning, alarm.M("alarm.msg.request_due_soon",
				"receipt", r.Receipt, "due", due))
		default:
			a.Clear(alarm.RequestDue, r.Receipt)
		}
	}
	return nil
}
