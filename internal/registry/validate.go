package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Validate checks every rule of the registry format (docs/ref/registry.md)
// on a value built in code. Parse runs the same checks with line numbers.
func (r *Registry) Validate() error {
	if probs := r.check("registry", nil); len(probs) > 0 {
		return errs.E("registry.Validate", errs.Invalid, &ValidationError{Problems: probs})
	}
	return nil
}

type checker struct {
	file  string
	lines map[string]int
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

func (c *checker) add(path, format string, a ...any) {
	c.probs = append(c.probs, Problem{File: c.file, Line: c.line(path), Path: path, Msg: fmt.Sprintf(format, a...)})
}

// missing reports a required key that is absent: the line is its parent's.
func (c *checker) missing(path, what string) { c.add(path, "%s is missing", what) }

func (c *checker) required(path, v, what string) {
	if strings.TrimSpace(v) == "" {
		c.missing(path, what)
	}
}

var hoursRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$`)

func (r *Registry) check(file string, lines map[string]int) []Problem {
	c := &checker{file: file, lines: lines}
	if r.Format != FormatVersion {
		c.add("format", "format must be %d (got %d)", FormatVersion, r.Format)
	}
	o := r.Organization
	c.required("organization.name", o.Name, "organization name")
	if loc, err := time.LoadLocation(r.tz()); err != nil {
		c.add("organization.timezone", "unknown time zone %q", o.Timezone)
	} else {
		r.loc = loc
	}
	if o.Homepage != "" {
		if u, err := url.Parse(o.Homepage); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.add("organization.homepage", "homepage %q is not an http(s) URL", o.Homepage)
		}
	}
	if len(r.LegalBasis) == 0 {
		c.missing("legal_basis", "legal basis (e.g. 개인정보보호법 제25조 제1항)")
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
	if h := r.Recording.Hours; h != "24h" && !hoursRE.MatchString(h) {
		c.add("recording.hours", "recording hours %q: want 24h or HH:MM-HH:MM", h)
	}

	if len(r.Sites) == 0 {
		c.missing("sites", "sites")
	}
	siteIDs := map[string]bool{}
	camIDs := map[string]string{}
	for i := range r.Sites {
		s := &r.Sites[i]
		p := fmt.Sprintf("sites[%d]", i)
		c.id(p+".id", s.ID, "site")
		if siteIDs[s.ID] {
			c.add(p+".id", "site id %q is used twice", s.ID)
		}
		siteIDs[s.ID] = true
		c.required(p+".name", s.Name, "site name")
		if !validKind(s.Kind) {
			c.add(p+".kind", "site kind %q: want one of %v", s.Kind, siteKinds)
		}
		if s.Retention.IsZero() {
			c.add(p, "retention is missing for site %q: the policy must state how long footage is kept (e.g. retention: 30d)", s.ID)
		} else if s.RetentionWording != "" && !strings.Contains(strings.ReplaceAll(s.RetentionWording, " ", ""), s.Retention.Korean()) {
			c.add(p+".retention_wording", "wording %q does not state the retention %s (%s)", s.RetentionWording, s.Retention, s.Retention.Korean())
		}
		c.required(p+".storage", s.Storage, "storage place (보관장소)")
		if len(s.Groups) == 0 {
			c.missing(p+".groups", "camera groups")
		}
		groupIDs := map[string]bool{}
		for j := range s.Groups {
			g := &s.Groups[j]
			gp := fmt.Sprintf("%s.groups[%d]", p, j)
			c.id(gp+".id", g.ID, "group")
			if groupIDs[g.ID] {
				c.add(gp+".id", "group id %q is used twice in site %q", g.ID, s.ID)
			}
			groupIDs[g.ID] = true
			c.required(gp+".location", g.Location, "location (설치 위치)")
			if g.Type != "" && g.Type != Fixed && g.Type != PTZ {
				c.add(gp+".type", "type %q: want fixed or ptz", g.Type)
			}
			for k, a := range g.Angles {
				if a <= 0 || a > 360 {
					c.add(fmt.Sprintf("%s.angles[%d]", gp, k), "angle %g is not in (0, 360] degrees", a)
				}
			}
			if g.RadiusM < 0 {
				c.add(gp+".radius_m", "radius %g m is negative", g.RadiusM)
			}
			switch {
			case g.Count != nil && *g.Count < 0:
				c.add(gp+".count", "count %d is negative", *g.Count)
			case g.Count != nil && len(g.Cameras) > 0 && *g.Count != len(g.Cameras):
				c.add(gp+".count", "count %d disagrees with the %d cameras listed; list the cameras or give a count, not both", *g.Count, len(g.Cameras))
			case g.Count == nil && len(g.Cameras) == 0:
				c.add(gp, "group %q has neither cameras nor a count", g.ID)
			case g.Count != nil && *g.Count == 0:
				c.add(gp+".count", "count is 0: remove the group instead")
			}
			for k := range g.Cameras {
				cam := &g.Cameras[k]
				cp := fmt.Sprintf("%s.cameras[%d]", gp, k)
				c.id(cp+".id", cam.ID, "camera")
				if prev, dup := camIDs[cam.ID]; dup {
					c.add(cp+".id", "camera id %q is already used at %s", cam.ID, prev)
				}
				camIDs[cam.ID] = cp
				if cam.Stream != nil {
					c.stream(cp+".stream", cam.Stream)
				}
			}
		}
	}

	if len(r.Personnel) == 0 {
		c.missing("personnel", "personnel")
	}
	managers := 0
	for i, pe := range r.Personnel {
		p := fmt.Sprintf("personnel[%d]", i)
		if pe.Role.Korean() == "" {
			c.add(p+".role", "role %q: want general_manager, operations_manager, manager, access or staff", pe.Role)
		}
		if pe.Role.IsManager() && pe.Phone != "" {
			managers++
		}
		if pe.Rank != "" && pe.Rank != "정" && pe.Rank != "부" {
			c.add(p+".rank", "rank %q: want 정 or 부", pe.Rank)
		}
		c.required(p+".title", pe.Title, "title (직위)")
		if pe.Phone != "" && !phoneRE.MatchString(pe.Phone) {
			c.add(p+".phone", "phone %q is malformed: want e.g. 062-603-7105 or 1588-0000", pe.Phone)
		}
		if (pe.Role == GeneralManager || pe.Role == Manager) && pe.Phone == "" {
			c.add(p+".phone", "a %s needs a phone number the public can call", pe.Role.Korean())
		}
		for k, sid := range pe.Sites {
			if !siteIDs[sid] {
				c.add(fmt.Sprintf("%s.sites[%d]", p, k), "unknown site %q", sid)
			}
		}
	}
	if len(r.Personnel) > 0 && managers == 0 {
		c.add("personnel", "no 관리책임자 with a phone number: the policy must name one")
	}
	if len(r.Processing) == 0 {
		c.missing("processing", "processing method (처리방법)")
	}
	if r.Outsourcing != nil {
		for i, v := range r.Outsourcing.Vendors {
			p := fmt.Sprintf("outsourcing.vendors[%d]", i)
			c.required(p+".name", v.Name, "vendor name")
			c.required(p+".contact_person", v.ContactPerson, "vendor contact person")
			if !phoneRE.MatchString(v.Phone) {
				c.add(p+".phone", "phone %q is malformed: want e.g. 062-603-7105", v.Phone)
			}
		}
	}
	c.required("confirmation.method", r.Confirmation.Method, "confirmation method (확인 방법)")
	c.required("confirmation.place", r.Confirmation.Place, "confirmation place (확인 장소)")
	c.required("requests.contact", r.Requests.Contact, "request contact")
	if d := r.Requests.DeadlineDays; d < 1 || d > 10 {
		c.add("requests.deadline_days", "deadline %d days: want 1 to 10 (표준 개인정보 보호지침)", d)
	}
	c.policy(&r.Policy)
	return c.probs
}

func validKind(k SiteKind) bool {
	for _, v := range siteKinds {
		if v == k {
			return true
		}
	}
	return false
}

func (c *checker) id(path, id, what string) {
	if !idRE.MatchString(id) {
		c.add(path, "%s id %q: want [a-z0-9][a-z0-9_-]{0,63}", what, id)
	}
}

func (c *checker) stream(p string, s *Stream) {
	u, err := url.Parse(s.URL)
	switch {
	case err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "":
		c.add(p+".url", "url %q is not an rtsp:// or rtsps:// URL", s.URL)
	case u.User != nil:
		if _, has := u.User.Password(); has {
			c.add(p+".url", "url carries a password: use password_env or password_file instead")
		}
	}
	if s.Transport != "" && s.Transport != "tcp" && s.Transport != "udp" {
		c.add(p+".transport", "transport %q: want tcp or udp", s.Transport)
	}
	if s.PasswordEnv != "" && s.PasswordFile != "" {
		c.add(p, "give password_env or password_file, not both")
	}
	if s.PasswordEnv != "" && !envRE.MatchString(s.PasswordEnv) {
		c.add(p+".password_env", "%q is not an environment variable name", s.PasswordEnv)
	}
}

func (c *checker) policy(pm *PolicyMeta) {
	c.required("policy.notice_channel", pm.NoticeChannel, "notice channel (e.g. 홈페이지)")
	if pm.NoticeDays != nil && *pm.NoticeDays < 0 {
		c.add("policy.notice_days", "notice_days %d is negative", *pm.NoticeDays)
	}
	if pm.Enacted.IsZero() {
		c.missing("policy.enacted", "enactment date")
	}
	if len(pm.History) == 0 {
		c.missing("policy.history", "policy history (at least the enactment)")
	}
	notice := pm.Notice()
	for i, v := range pm.History {
		p := fmt.Sprintf("policy.history[%d]", i)
		if v.Effective.IsZero() {
			c.missing(p+".effective", "effective date")
			continue
		}
		if i > 0 && !pm.History[i-1].Effective.Before(v.Effective) {
			c.add(p+".effective", "effective date %s is not after the previous revision's %s", v.Effective, pm.History[i-1].Effective)
		}
		if v.Announced.IsZero() {
			continue
		}
		if v.Effective.Before(v.Announced) {
			c.add(p+".effective", "effective date %s is before the announcement %s", v.Effective, v.Announced)
		} else if min := v.Announced.AddDays(notice); v.Effective.Before(min) && strings.TrimSpace(v.ImmediateReason) == "" {
			c.add(p+".effective", "effective date %s is inside the %d-day notice period after the announcement %s (earliest %s); give immediate_reason for an immediate change",
				v.Effective, notice, v.Announced, min)
		}
	}
}
