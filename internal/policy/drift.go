package policy

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/registry"
)

// Snapshot is the part of the registry and running configuration that the
// published policy promises and that can drift: cameras, retention and
// storage per site, recording hours, managers and contractors. A published
// version keeps the snapshot it was rendered from.
type Snapshot struct {
	Recording string      `json:"recording"`
	Sites     []SiteState `json:"sites"`
	Managers  []string    `json:"managers"` // one line per manager, sorted
	Vendors   []string    `json:"vendors"`  // one line per contractor, sorted
}

// SiteState is what the policy says about one site.
type SiteState struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Cameras   int    `json:"cameras"`
	Retention string `json:"retention"` // "60d", "6mo": the retention applied
	Storage   string `json:"storage"`
	// Capacity is "early" when the policy announces early deletion by
	// capacity for the site, "" when it promises the full period.
	Capacity string `json:"capacity,omitempty"`
}

// SnapshotOf takes the snapshot of a registry. To compare against what is
// really running, the caller overwrites fields with live values (for example
// each site's Retention with what the retention engine applies).
func SnapshotOf(r *registry.Registry) Snapshot {
	s := Snapshot{Recording: r.Recording.Hours}
	for i := range r.Sites {
		st := &r.Sites[i]
		ss := SiteState{ID: st.ID, Name: st.Name, Cameras: st.CameraCount(), Retention: st.Retention.String(), Storage: st.Storage}
		if r.CapacityRule(st).Early() {
			ss.Capacity = "early"
		}
		s.Sites = append(s.Sites, ss)
	}
	for _, p := range r.Personnel {
		if !p.Role.IsManager() {
			continue
		}
		line := strings.Join(nonEmpty(p.Role.Korean(), p.Rank, p.Department, p.Title, p.Name, p.Phone), " ")
		if len(p.Sites) > 0 {
			line += " [" + strings.Join(p.Sites, ",") + "]"
		}
		s.Managers = append(s.Managers, line)
	}
	sort.Strings(s.Managers)
	if r.Outsourcing != nil {
		for _, v := range r.Outsourcing.Vendors {
			s.Vendors = append(s.Vendors, strings.Join(nonEmpty(v.Name, v.ContactPerson, v.Phone), " "))
		}
		sort.Strings(s.Vendors)
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Difference is one way the running system no longer matches the published
// policy.
type Difference struct {
	Field     string // e.g. sites[seogwangju].cameras, managers
	Published string // "" when absent from the published policy
	Live      string // "" when absent from the live system
}

func (d Difference) String() string {
	pub, live := d.Published, d.Live
	if pub == "" {
		pub = "(none)"
	}
	if live == "" {
		live = "(none)"
	}
	return fmt.Sprintf("%s: published %s, live %s", d.Field, pub, live)
}

// Drift names each difference between the published snapshot and the live
// one; none means the public policy is still true.
func Drift(published, live Snapshot) []Difference {
	var out []Difference
	add := func(field, p, l string) {
		if p != l {
			out = append(out, Difference{field, p, l})
		}
	}
	add("recording.hours", published.Recording, live.Recording)
	liveSites := map[string]SiteState{}
	for _, s := range live.Sites {
		liveSites[s.ID] = s
	}
	seen := map[string]bool{}
	for _, p := range published.Sites {
		seen[p.ID] = true
		l, ok := liveSites[p.ID]
		f := "sites[" + p.ID + "]"
		if !ok {
			add(f, p.Name, "")
			continue
		}
		add(f+".name", p.Name, l.Name)
		add(f+".cameras", fmt.Sprint(p.Cameras), fmt.Sprint(l.Cameras))
		add(f+".retention", p.Retention, l.Retention)
		add(f+".storage", p.Storage, l.Storage)
		add(f+".capacity", p.Capacity, l.Capacity)
	}
	for _, l := range live.Sites {
		if !seen[l.ID] {
			add("sites["+l.ID+"]", "", l.Name)
		}
	}
	setDiff(&out, "managers", published.Managers, live.Managers)
	setDiff(&out, "outsourcing.vendors", published.Vendors, live.Vendors)
	return out
}

func setDiff(out *[]Difference, field string, pub, live []string) {
	in := func(s string, list []string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, p := range pub {
		if !in(p, live) {
			*out = append(*out, Difference{field, p, ""})
		}
	}
	for _, l := range live {
		if !in(l, pub) {
			*out = append(*out, Difference{field, "", l})
		}
	}
}

// CheckDrift compares live with the snapshot of the version in effect and
// logs each difference as a warning; the caller shows the returned list on
// the dashboard. No version in effect yet is not a drift.
func (s *Store) CheckDrift(live Snapshot, log *slog.Logger) ([]Difference, error) {
	cur, _, err := s.Current()
	if errs.Is(err, errs.NotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	diffs := Drift(cur.Snapshot, live)
	for _, d := range diffs {
		if log != nil {
			log.Warn("the running system no longer matches the published policy",
				"version", cur.Number, "field", d.Field, "published", d.Published, "live", d.Live)
		}
	}
	return diffs, nil
}

// Changes words each difference from one snapshot to a later one as
// "field: old → new", for the 관리대장 row of a change of promise.
func Changes(from, to Snapshot) []string {
	var out []string
	for _, d := range Drift(from, to) {
		was, now := d.Published, d.Live
		if was == "" {
			was = "(none)"
		}
		if now == "" {
			now = "(none)"
		}
		out = append(out, fmt.Sprintf("%s: %s → %s", d.Field, was, now))
	}
	return out
}
