package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Validate checks every rule of the registry format (docs/ref/registry.md)
// on a value built in code. Parse runs the same checks with line numbers.
func (r *Registry) Validate() error {
	if probs := r.check("registry", nil); len(probs) > 0 {
		return errs.E("registry.Validate", errs.Invalid, errs.Code("registry.invalid"),
			errs.Params{"file": "registry", "count": strconv.Itoa(len(probs))}, &ValidationError{Problems: probs})
	}
	return nil
}

type checker struct {
	file  string
	lines map[string]int // nil for a value built in code
	probs []Problem
}

func (c *checker) line(path string) int {
	if c.lines == nil {
		return 0
	}
	for p := path; ; {
		if l, ok := c.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return c.lines[""]
		}
		p = p[:i]
	}
}

// present reports whether the key at path was written in the file (always
// true for a value built in code, whose zero values are checked instead).
func (c *checker) present(path string) bool {
	if c.lines == nil {
		return true
	}
	_, ok := c.lines[path]
	return ok
}

type params = map[string]string

func (c *checker) add(path, code string, p params) {
	c.probs = append(c.probs, newProblem(c.file, c.line(path), path, code, p))
}

// missing reports a required key that is absent or empty: the line is its
// parent's. what names the key's catalogue noun (registry.missing.<what>).
func (c *checker) missing(path, what string) { c.add(path, "registry.missing."+what, nil) }

func (c *checker) required(path, v, what string) {
	if strings.TrimSpace(v) == "" {
		c.missing(path, what)
	}
}

var hoursRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$`)

// maxKindRunes bounds a site kind: a word, not a sentence.
const maxKindRunes = 20

func (r *Registry) check(file string, lines map[string]int) []Problem {
	c := &checker{file: file, lines: lines}
	switch {
	case !c.present("format") || r.Format == 0:
		c.missing("format", "format")
	case r.Format != FormatVersion:
		c.add("format", "registry.format", params{"want": strconv.Itoa(FormatVersion), "got": strconv.Itoa(r.Format)})
	}
	o := r.Organization
	c.required("organization.name", o.Name, "organization_name")
	if loc, err := time.LoadLocation(r.tz()); err != nil {
		c.add("organization.timezone", "registry.timezone", params{"value": o.Timezone})
	} else {
		r.loc = loc
	}
	if o.Homepage != "" {
		if u, err := url.Parse(o.Homepage); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.add("organization.homepage", "registry.homepage", params{"value": o.Homepage})
		}
	}
	if len(r.LegalBasis) == 0 {
		c.missing("legal_basis", "legal_basis")
	}
	for i, l := range r.LegalBasis {
		c.required(fmt.Sprintf("legal_basis[%d].law", i), l.Law, "law")
		c.required(fmt.Sprintf("legal_basis[%d].article", i), l.Article, "article")
	}
	if len(r.Purposes) == 0 {
		c.missing("purposes", "purposes")
	}
	for i, p := range r.Purposes {
		c.required(fmt.Sprintf("purposes[%d]", i), p, "purpose")
	}
	switch h := r.Recording.Hours; {
	case h == "":
		c.missing("recording.hours", "recording_hours")
	case h != "24h" && !hoursRE.MatchString(h):
		c.add("recording.hours", "registry.hours", params{"value": h})
	}

	if len(r.Sites) == 0 {
		c.missing("sites", "sites")
	}
	siteIDs := map[string]bool{}
	camIDs := map[string]string{}
	places := map[string]bool{}
	for i := range r.Sites {
		s := &r.Sites[i]
		p := fmt.Sprintf("sites[%d]", i)
		c.id(p+".id", s.ID)
		if siteIDs[s.ID] && s.ID != "" {
			c.add(p+".id", "registry.site_id_dup", params{"id": s.ID})
		}
		siteIDs[s.ID] = true
		c.required(p+".name", s.Name, "site_name")
		switch k := strings.TrimSpace(string(s.Kind)); {
		case k == "":
			c.missing(p+".kind", "site_kind")
		case len([]rune(k)) > maxKindRunes:
			c.add(p+".kind", "registry.kind_long", params{"value": k, "max": strconv.Itoa(maxKindRunes)})
		}
		if s.Retention.IsZero() {
			c.missing(p+".retention", "retention")
		} else if s.RetentionWording != "" && !statesPeriod(s.RetentionWording, s.Retention) {
			c.add(p+".retention_wording", "registry.wording_period", params{"wording": s.RetentionWording, "retention": s.Retention.String(), "korean": s.Retention.Korean()})
		}
		if s.CapacityNote != "" {
			c.add(p+".capacity_note", "registry.capacity_note_gone", nil)
		}
		c.required(p+".storage", s.Storage, "storage")
		places[strings.TrimSpace(s.Storage)] = true
		if len(s.Groups) == 0 {
			c.missing(p+".groups", "groups")
		}
		groupIDs := map[string]bool{}
		for j := range s.Groups {
			g := &s.Groups[j]
			gp := fmt.Sprintf("%s.groups[%d]", p, j)
			c.id(gp+".id", g.ID)
			if groupIDs[g.ID] && g.ID != "" {
				c.add(gp+".id", "registry.group_id_dup", params{"id": g.ID, "site": s.ID})
			}
			groupIDs[g.ID] = true
			c.required(gp+".location", g.Location, "location")
			if g.Type != "" && g.Type != Fixed && g.Type != PTZ {
				c.add(gp+".type", "registry.lens_type", params{"value": string(g.Type)})
			}
			for k, a := range g.Angles {
				if a <= 0 || a > 360 {
					c.add(fmt.Sprintf("%s.angles[%d]", gp, k), "registry.angle", params{"value": trimFloat(a)})
				}
			}
			if g.RadiusM < 0 {
				c.add(gp+".radius_m", "registry.radius_negative", params{"value": trimFloat(g.RadiusM)})
			}
			switch {
			case g.Count != nil && *g.Count < 0:
				c.add(gp+".count", "registry.count_negative", params{"count": strconv.Itoa(*g.Count)})
			case g.Count != nil && len(g.Cameras) > 0 && *g.Count != len(g.Cameras):
				c.add(gp+".count", "registry.count_disagrees", params{"count": strconv.Itoa(*g.Count), "listed": strconv.Itoa(len(g.Cameras))})
			case g.Count == nil && len(g.Cameras) == 0:
				c.add(gp, "registry.group_empty", params{"id": g.ID})
			case g.Count != nil && *g.Count == 0:
				c.add(gp+".count", "registry.count_zero", nil)
			}
			for k := range g.Cameras {
				cam := &g.Cameras[k]
				cp := fmt.Sprintf("%s.cameras[%d]", gp, k)
				c.id(cp+".id", cam.ID)
				if prev, dup := camIDs[cam.ID]; dup && cam.ID != "" {
					c.add(cp+".id", "registry.camera_dup", params{"id": cam.ID, "at": prev})
				}
				camIDs[cam.ID] = cp
				if cam.Stream != nil {
					c.stream(cp+".stream", cam.Stream)
				}
				for z := range cam.PrivacyZones {
					c.privacyZone(fmt.Sprintf("%s.privacy_zones[%d]", cp, z), &cam.PrivacyZones[z])
				}
			}
		}
	}
	c.storageSummary(r, places)

	if len(r.Personnel) == 0 {
		c.missing("personnel", "personnel")
	}
	managers := 0
	for i, pe := range r.Personnel {
		p := fmt.Sprintf("personnel[%d]", i)
		switch {
		case pe.Role == "":
			c.missing(p+".role", "role")
		case pe.Role.Korean() == "":
			c.add(p+".role", "registry.role", params{"value": string(pe.Role)})
		}
		if pe.Role.IsManager() && pe.Phone != "" {
			managers++
		}
		if pe.Rank != "" && pe.Rank != "정" && pe.Rank != "부" {
			c.add(p+".rank", "registry.rank", params{"value": pe.Rank})
		}
		c.required(p+".title", pe.Title, "title")
		if pe.Phone != "" && !phoneRE.MatchString(pe.Phone) {
			c.add(p+".phone", "registry.phone_bad", params{"value": pe.Phone})
		}
		if (pe.Role == GeneralManager || pe.Role == Manager) && pe.Phone == "" {
			c.add(p+".phone", "registry.manager_phone", params{"role": pe.Role.Korean()})
		}
		for k, sid := range pe.Sites {
			if !siteIDs[sid] {
				c.add(fmt.Sprintf("%s.sites[%d]", p, k), "registry.site_unknown", params{"id": sid})
			}
		}
	}
	if len(r.Personnel) > 0 && managers == 0 {
		c.add("personnel", "registry.no_manager", nil)
	}
	if len(r.Processing) == 0 {
		c.missing("processing", "processing")
	}
	if r.Outsourcing != nil {
		for i, v := range r.Outsourcing.Vendors {
			p := fmt.Sprintf("outsourcing.vendors[%d]", i)
			c.required(p+".name", v.Name, "vendor_name")
			c.required(p+".contact_person", v.ContactPerson, "vendor_contact")
			switch {
			case v.Phone == "":
				c.missing(p+".phone", "vendor_phone")
			case !phoneRE.MatchString(v.Phone):
				c.add(p+".phone", "registry.phone_bad", params{"value": v.Phone})
			}
		}
	}
	c.required("confirmation.method", r.Confirmation.Method, "confirmation_method")
	c.required("confirmation.place", r.Confirmation.Place, "confirmation_place")
	c.required("requests.contact", r.Requests.Contact, "request_contact")
	if d, ok := r.Requests.Deadline(); ok && (d < 1 || d > 10) {
		c.add("requests.deadline_days", "registry.deadline", params{"days": strconv.Itoa(d)})
	}
	// A wording of early deletion by capacity needs the rule that makes
	// the retention engine treat it as announced.
	if r.Capacity.Wording != "" && !r.Capacity.Early() {
		c.add("capacity.wording", "registry.capacity_wording", nil)
	}
	for i := range r.Sites {
		if cp := r.Sites[i].Capacity; cp != nil && cp.Wording != "" && !r.CapacityRule(&r.Sites[i]).Early() {
			c.add(fmt.Sprintf("sites[%d].capacity.wording", i), "registry.capacity_wording", nil)
		}
	}
	c.policy(&r.Policy)
	return c.probs
}

// statesPeriod reports whether a public wording states the period.
func statesPeriod(wording string, ret Retention) bool {
	w := strings.ReplaceAll(wording, " ", "")
	for _, s := range ret.Words() {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// summaryPartRE splits a storage summary into the places it names.
var summaryPartRE = regexp.MustCompile(`\s*(?:,|·|/|\s및\s|\s와\s|\s과\s)\s*`)

// storageSummary checks that storage_summary names only places that sites
// use, and every place they use: it is a wording of the sites' storage,
// never a second, free-floating statement of it.
func (c *checker) storageSummary(r *Registry, places map[string]bool) {
	sum := strings.TrimSpace(r.StorageSummary)
	if sum == "" {
		return
	}
	var list []string
	for _, s := range r.Sites {
		if st := strings.TrimSpace(s.Storage); st != "" && !contains(list, st) {
			list = append(list, st)
		}
	}
	named := map[string]bool{}
	for _, part := range summaryPartRE.Split(sum, -1) {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		named[part] = true
		if !places[part] {
			c.add("storage_summary", "registry.storage_summary_unknown", params{"place": part, "places": strings.Join(list, ", ")})
		}
	}
	for i, s := range r.Sites {
		if st := strings.TrimSpace(s.Storage); st != "" && !named[st] {
			c.add("storage_summary", "registry.storage_summary_omits", params{"place": st, "site": r.Sites[i].ID})
			named[st] = true
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *checker) id(path, id string) {
	switch {
	case id == "":
		c.missing(path, "id")
	case !idRE.MatchString(id):
		c.add(path, "registry.id_bad", params{"id": id})
	}
}

func (c *checker) stream(p string, s *Stream) {
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		c.missing(p+".url", "stream_url")
	case err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "":
		c.add(p+".url", "registry.url_bad", params{"value": s.URL})
	case u.User != nil:
		if _, has := u.User.Password(); has {
			c.add(p+".url", "registry.url_password", nil)
		}
	}
	if s.Transport != "" && s.Transport != "tcp" && s.Transport != "udp" {
		c.add(p+".transport", "registry.transport", params{"value": s.Transport})
	}
	if s.PasswordEnv != "" && s.PasswordFile != "" {
		c.add(p, "registry.password_both", nil)
	}
	if s.PasswordEnv != "" && !envRE.MatchString(s.PasswordEnv) {
		c.add(p+".password_env", "registry.env_bad", params{"value": s.PasswordEnv})
	}
}

func (c *checker) policy(pm *PolicyMeta) {
	c.required("policy.notice_channel", pm.NoticeChannel, "notice_channel")
	if pm.NoticeDays != nil && *pm.NoticeDays < 0 {
		c.add("policy.notice_days", "registry.notice_negative", params{"days": strconv.Itoa(*pm.NoticeDays)})
	}
	if pm.Enacted.IsZero() {
		c.missing("policy.enacted", "enacted")
	}
	if len(pm.History) == 0 {
		c.missing("policy.history", "history")
	}
	notice := pm.Notice()
	for i, v := range pm.History {
		p := fmt.Sprintf("policy.history[%d]", i)
		if v.Effective.IsZero() {
			c.missing(p+".effective", "effective")
			continue
		}
		if i > 0 && !pm.History[i-1].Effective.IsZero() && !pm.History[i-1].Effective.Before(v.Effective) {
			c.add(p+".effective", "registry.effective_order", params{"date": v.Effective.String(), "prev": pm.History[i-1].Effective.String()})
		}
		first := firstOf(v.Announced, v.Effective)
		if !pm.Enacted.IsZero() && first.Before(pm.Enacted) {
			c.add(p, "registry.before_enacted", params{"date": first.String(), "enacted": pm.Enacted.String()})
		}
		if v.Announced.IsZero() {
			continue
		}
		if v.Effective.Before(v.Announced) {
			c.add(p+".effective", "registry.effective_before_announce", params{"date": v.Effective.String(), "announced": v.Announced.String()})
		} else if min := v.Announced.AddDays(notice); v.Effective.Before(min) && strings.TrimSpace(v.ImmediateReason) == "" {
			c.add(p+".effective", "registry.notice_period", params{"date": v.Effective.String(), "days": strconv.Itoa(notice),
				"announced": v.Announced.String(), "earliest": min.String()})
		}
	}
}

func firstOf(ds ...Date) Date {
	for _, d := range ds {
		if !d.IsZero() {
			return d
		}
	}
	return Date{}
}

// maxZonePoints bounds a privacy zone's polygon (as mask.MaxPoints does).
const maxZonePoints = 64

// privacyZone checks a camera's privacy zone: 3 to 64 points [x, y]
// inside the picture (0..1) enclosing an area.
func (c *checker) privacyZone(p string, z *PrivacyZone) {
	if n := len(z.Points); n < 3 || n > maxZonePoints {
		c.add(p+".points", "registry.zone_points", params{"count": strconv.Itoa(n), "max": strconv.Itoa(maxZonePoints)})
		return
	}
	var a float64
	for i, pt := range z.Points {
		if len(pt) != 2 || pt[0] < 0 || pt[0] > 1 || pt[1] < 0 || pt[1] > 1 || pt[0] != pt[0] || pt[1] != pt[1] {
			c.add(fmt.Sprintf("%s.points[%d]", p, i), "registry.zone_point", params{"n": strconv.Itoa(i + 1)})
			return
		}
		q := z.Points[(i+1)%len(z.Points)]
		if len(q) == 2 {
			a += pt[0]*q[1] - q[0]*pt[1]
		}
	}
	if a < 0 {
		a = -a
	}
	if a/2 < 0.005*0.005 {
		c.add(p+".points", "registry.zone_area", nil)
	}
}
