package registry

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gwanje/gwanje/internal/errs"
)

// Retention is a retention period in calendar terms: a number of days or a
// number of months, kept apart because 6 months is not 180 days. Written
// "10d", "60d", "6mo" or "1y" (= 12mo). The zero value means "not set".
type Retention struct {
	Days   int
	Months int
}

// DefaultRetention is what the retention engine applies to a camera that is
// in no site with a rule, with a warning (see RetentionOrDefault).
var DefaultRetention = Retention{Days: 30}

// ParseRetention parses "10d", "6mo", "1y" or the Korean "10일", "6개월",
// "1년" (spaces allowed: "6 개월").
func ParseRetention(s string) (Retention, error) {
	in := s
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	var unit string
	for _, u := range []string{"개월", "mo", "d", "y", "일", "년"} {
		if strings.HasSuffix(s, u) {
			unit = u
			break
		}
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, unit))
	if unit == "" || err != nil || n <= 0 || n > 100000 {
		return Retention{}, &valueError{code: "registry.retention_bad", params: map[string]string{"value": in}}
	}
	switch unit {
	case "d", "일":
		return Retention{Days: n}, nil
	case "mo", "개월":
		return Retention{Months: n}, nil
	default:
		return Retention{Months: 12 * n}, nil
	}
}

// IsZero reports whether the retention is unset.
func (r Retention) IsZero() bool { return r.Days == 0 && r.Months == 0 }

// String is the YAML form.
func (r Retention) String() string {
	switch {
	case r.Months > 0:
		return strconv.Itoa(r.Months) + "mo"
	case r.Days > 0:
		return strconv.Itoa(r.Days) + "d"
	}
	return ""
}

// Korean is the public wording of the length: 60일, 6개월, 1년.
func (r Retention) Korean() string {
	if r.Months > 0 && r.Months%12 == 0 {
		return strconv.Itoa(r.Months/12) + "년"
	}
	if r.Months > 0 {
		return strconv.Itoa(r.Months) + "개월"
	}
	return strconv.Itoa(r.Days) + "일"
}

// English is the length in English: 60 days, 6 months, 1 year.
func (r Retention) English() string {
	n, unit := r.Days, "day"
	switch {
	case r.Months > 0 && r.Months%12 == 0:
		n, unit = r.Months/12, "year"
	case r.Months > 0:
		n, unit = r.Months, "month"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}

// Words are the Korean wordings that state the period, for checking a
// public wording: 12개월 and 1년 both state "1y".
func (r Retention) Words() []string {
	w := []string{r.Korean()}
	if r.Months > 0 && r.Months%12 == 0 {
		w = append(w, strconv.Itoa(r.Months)+"개월")
	}
	return w
}

// LastDay is the last civil day on which footage recorded on day d is kept.
// The recording day itself is not counted (민법 제157조, 초일 불산입): "10d"
// keeps footage of 1 March through 11 March. A month period ends on the
// same day number n months later, or on that month's last day when it has
// no such day (민법 제160조): "6mo" keeps footage of 31 August through the
// last day of February.
func (r Retention) LastDay(d Date) Date {
	if r.Months > 0 {
		first := time.Date(d.Year, d.Month+time.Month(r.Months), 1, 0, 0, 0, 0, time.UTC)
		last := first.AddDate(0, 1, -1).Day()
		day := d.Day
		if day > last {
			day = last
		}
		return Date{first.Year(), first.Month(), day}
	}
	return d.AddDays(r.Days)
}

// Expiry is the instant from which footage recorded at t is due for
// destruction: 00:00, in loc, of the day after LastDay of t's civil date in
// loc. Footage recorded at 23:59:59 belongs to that day, at 00:00:00 to the
// next.
func (r Retention) Expiry(t time.Time, loc *time.Location) time.Time {
	return r.LastDay(DateOf(t.In(loc))).AddDays(1).Start(loc)
}

// UnmarshalYAML reads the "10d" form.
func (r *Retention) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseRetention(n.Value)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalYAML writes the "10d" form.
func (r Retention) MarshalYAML() (any, error) { return r.String(), nil }

// Camera returns the site and group of a listed camera.
func (r *Registry) Camera(id string) (*Site, *Group, *Camera, bool) {
	for i := range r.Sites {
		s := &r.Sites[i]
		for j := range s.Groups {
			g := &s.Groups[j]
			for k := range g.Cameras {
				if g.Cameras[k].ID == id {
					return s, g, &g.Cameras[k], true
				}
			}
		}
	}
	return nil, nil, nil, false
}

// RetentionFor is the retention the policy states for the camera's site.
// It fails with errs.NotExist when the camera is not in the registry.
func (r *Registry) RetentionFor(cameraID string) (Retention, error) {
	const op = "registry.RetentionFor"
	s, _, _, ok := r.Camera(cameraID)
	if !ok {
		return Retention{}, errs.Errorf(op, errs.NotExist, "camera %q is not in the registry", cameraID)
	}
	if s.Retention.IsZero() {
		return Retention{}, errs.Errorf(op, errs.Invalid, "site %q has no retention", s.ID)
	}
	return s.Retention, nil
}

// RetentionOrDefault is RetentionFor, falling back to DefaultRetention with a
// warning on log when the camera has no rule (r may be nil).
func (r *Registry) RetentionOrDefault(cameraID string, log *slog.Logger) Retention {
	if r != nil {
		if ret, err := r.RetentionFor(cameraID); err == nil {
			return ret
		}
	}
	if log != nil {
		log.Warn("camera has no retention rule in the registry; applying the default",
			"camera", cameraID, "retention", DefaultRetention.String())
	}
	return DefaultRetention
}
