// Package registry is the single description of an institution's video
// information processing: organisation, legal basis and purposes, sites with
// their camera groups and cameras, personnel, recording hours, retention,
// storage, outsourcing, safety declarations, signage and the history of the
// published 영상정보처리기기 운영·관리 방침.
//
// The recorder takes its cameras from here (StreamCameras), the retention
// engine its periods (RetentionFor), and the policy package renders the
// public document from the same value, so what is published is what runs.
// The YAML format is described in docs/ref/registry.md; its invariants in
// docs/design/registry.md.
package registry

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FormatVersion is the registry YAML format this code reads and writes.
const FormatVersion = 1

// Registry is a validated registry. Build one with Parse or Load; a value
// built by hand must pass Validate before use.
type Registry struct {
	Format         int          `yaml:"format"`
	Organization   Organization `yaml:"organization"`
	LegalBasis     []LegalRef   `yaml:"legal_basis"`
	Purposes       []string     `yaml:"purposes"`
	Recording      Recording    `yaml:"recording"`
	Sites          []Site       `yaml:"sites"`
	Personnel      []Person     `yaml:"personnel"`
	StorageSummary string       `yaml:"storage_summary,omitempty"` // one wording for all sites' storage, e.g. "당직실 및 각 소속우체국"
	RetentionNote  string       `yaml:"retention_note,omitempty"`  // e.g. "보관 기간 및 장소는 각 우체국 상황에 따라 상이"
	Capacity       Capacity     `yaml:"capacity,omitempty"`        // what happens when storage runs out; sites may override
	Processing     []string     `yaml:"processing"`                // 처리방법, one statement per item
	Outsourcing    *Outsourcing `yaml:"outsourcing,omitempty"`     // nil: the policy has no 위탁 section
	Confirmation   Confirmation `yaml:"confirmation"`
	Requests       Requests     `yaml:"requests"`
	Safety         Safety       `yaml:"safety,omitempty"`
	Signage        Signage      `yaml:"signage,omitempty"`
	Policy         PolicyMeta   `yaml:"policy"`
	// English maps each Korean text the policy prints from the registry
	// (names, places, purposes, titles, wordings) to its English, for
	// institutions that publish the policy in both languages.
	English map[string]string `yaml:"english,omitempty"`
	loc     *time.Location
}

// Organization is the institution publishing the policy.
type Organization struct {
	Name      string `yaml:"name"`                 // 서광주우체국
	NameEn    string `yaml:"name_en,omitempty"`    // Jeonbuk Regional Office of SMBA
	Scope     string `yaml:"scope,omitempty"`      // shown after the name: 서광주우체국(소속 관내국 포함)
	ShortName string `yaml:"short_name,omitempty"` // how the text refers to the organisation: 본 기관
	Homepage  string `yaml:"homepage,omitempty"`   // https URL
	Timezone  string `yaml:"timezone,omitempty"`   // IANA name; Asia/Seoul when empty
	Signatory string `yaml:"signatory,omitempty"`  // closing line, e.g. 서광주우체국 영상정보처리기기 관리책임관
	// Holidays are the institution's public holidays (공휴일, 대체공휴일,
	// 임시공휴일), as dates in its zone: a data-subject request's answer
	// period that ends on one moves to the next working day
	// (docs/design/requests.md).
	Holidays []Date `yaml:"holidays,omitempty"`
}

// LegalRef names a law and an article, e.g. 개인정보보호법 제25조 제1항.
type LegalRef struct {
	Law     string `yaml:"law"`
	Article string `yaml:"article"`
}

func (l LegalRef) String() string { return strings.TrimSpace(l.Law + " " + l.Article) }

// Bracketed is the reference with the law's name in 「」, as statutes are
// cited: 「개인정보 보호법」 제25조 제1항. A name already bracketed is kept.
func (l LegalRef) Bracketed() string {
	law := strings.TrimSpace(l.Law)
	if law != "" && !strings.HasPrefix(law, "「") {
		law = "「" + law + "」"
	}
	return strings.TrimSpace(law + " " + l.Article)
}

// Recording states when cameras record.
type Recording struct {
	Hours   string `yaml:"hours"`             // "24h", or "HH:MM-HH:MM"
	Wording string `yaml:"wording,omitempty"` // public wording; derived from Hours when empty
}

// Continuous reports whether recording runs around the clock.
func (r Recording) Continuous() bool { return r.Hours == "24h" }

// Text is the public wording of the recording hours.
func (r Recording) Text() string {
	if r.Wording != "" {
		return r.Wording
	}
	if r.Continuous() {
		return "24시간"
	}
	return strings.Replace(r.Hours, "-", "~", 1)
}

// SiteKind is the kind of a site in the institution's own word: 본점,
// 지점, 관내국, 센터, 청사, 본국, 본청 … Any short text is accepted; the
// policy never renders it, so it cannot misstate anything.
type SiteKind string

// Site kinds the seed policies use. Others are accepted.
const (
	KindHead   SiteKind = "본점"
	KindBranch SiteKind = "지점"
	KindOffice SiteKind = "관내국"
	KindCenter SiteKind = "센터"
	KindSite   SiteKind = "청사"
	KindMain   SiteKind = "본국"
)

// Site is one place with cameras: a head office, branch, 관내국 or centre.
type Site struct {
	ID               string    `yaml:"id"`
	Name             string    `yaml:"name"`
	Kind             SiteKind  `yaml:"kind"`
	Retention        Retention `yaml:"retention"`
	RetentionWording string    `yaml:"retention_wording,omitempty"` // public wording, e.g. "6개월내외"; derived when empty
	// CapacityNote was free text about deletion by capacity; it is
	// refused with a pointer to Capacity, which the retention engine obeys.
	CapacityNote string    `yaml:"capacity_note,omitempty"`
	Capacity     *Capacity `yaml:"capacity,omitempty"` // overrides the institution's capacity rule for this site
	Storage      string    `yaml:"storage"`            // 보관장소, e.g. 전산실
	Groups       []Group   `yaml:"groups"`
}

// RetentionText is the public wording of the site's retention period.
func (s *Site) RetentionText() string {
	if s.RetentionWording != "" {
		return s.RetentionWording
	}
	return "촬영일로부터 " + s.Retention.Korean()
}

// CameraCount is the number of cameras at the site, derived from its groups.
func (s *Site) CameraCount() int {
	n := 0
	for i := range s.Groups {
		n += s.Groups[i].CameraCount()
	}
	return n
}

// Connected is the number of cameras at the site with a stream configured.
func (s *Site) Connected() int {
	n := 0
	for _, g := range s.Groups {
		for _, c := range g.Cameras {
			if c.Stream != nil {
				n++
			}
		}
	}
	return n
}

// LensType is how a camera group is mounted.
type LensType string

// Lens types.
const (
	Fixed LensType = "fixed"
	PTZ   LensType = "ptz"
)

// Korean is the public wording: 고정 or 회전형(PTZ); empty when unset.
func (t LensType) Korean() string {
	switch t {
	case PTZ:
		return "회전형(PTZ)"
	case Fixed:
		return "고정"
	}
	return ""
}

// Group is a set of cameras at one location of a site.
type Group struct {
	ID       string    `yaml:"id"`
	Location string    `yaml:"location"`           // 설치 위치
	Range    string    `yaml:"range,omitempty"`    // 촬영범위; derived from RadiusM when empty
	Type     LensType  `yaml:"type,omitempty"`     // fixed | ptz; empty when the policy does not say
	Angles   []float64 `yaml:"angles,omitempty"`   // field-of-view angles in degrees, e.g. [84.5, 45.8]
	RadiusM  float64   `yaml:"radius_m,omitempty"` // approximate shooting radius in metres
	Count    *int      `yaml:"count,omitempty"`    // number of cameras when they are not listed
	Cameras  []Camera  `yaml:"cameras,omitempty"`
}

// CameraCount is len(Cameras) when cameras are listed, else Count.
func (g *Group) CameraCount() int {
	if len(g.Cameras) > 0 {
		return len(g.Cameras)
	}
	if g.Count != nil {
		return *g.Count
	}
	return 0
}

// RangeText is the public wording of the shooting range.
func (g *Group) RangeText() string {
	if g.Range != "" {
		return g.Range
	}
	if g.RadiusM > 0 {
		return fmt.Sprintf("카메라로부터 반경 약 %sm 이내", trimFloat(g.RadiusM))
	}
	return ""
}

func trimFloat(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", f), ".0") }

// AnglesText renders Angles as "84.5˚, 45.8˚".
func (g *Group) AnglesText() string {
	var parts []string
	for _, a := range g.Angles {
		parts = append(parts, trimFloat(a)+"˚")
	}
	return strings.Join(parts, ", ")
}

// Camera is one camera. ID is stable for the life of the footage.
type Camera struct {
	ID     string  `yaml:"id"`
	Name   string  `yaml:"name,omitempty"`
	Stream *Stream `yaml:"stream,omitempty"` // nil: not yet connected
	// PrivacyZones are parts of the picture nobody may see in a copy
	// (a neighbour's window, a changing-room door): masked in every masked
	// export of the camera (docs/design/masking.md).
	PrivacyZones []PrivacyZone `yaml:"privacy_zones,omitempty"`
}

// PrivacyZone is a polygon of 3 to 64 points relative to the picture:
// [x, y] with x from the left and y from the top, each 0..1.
type PrivacyZone struct {
	Name   string      `yaml:"name,omitempty"`
	Points [][]float64 `yaml:"points"`
}

// Stream is how the recorder reaches a camera. The password is never
// stored here, only a reference to where it is.
type Stream struct {
	URL          string `yaml:"url"`
	Transport    string `yaml:"transport,omitempty"` // tcp (default) | udp
	Username     string `yaml:"username,omitempty"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
}

// Role is a person's role in the policy.
type Role string

// Roles, with the Korean the policy uses. Append only.
const (
	GeneralManager    Role = "general_manager"    // 총괄 책임자
	OperationsManager Role = "operations_manager" // 운영 책임자
	Manager           Role = "manager"            // 관리책임자
	AccessHolder      Role = "access"             // 접근권한자
	Staff             Role = "staff"              // 업무담당
)

var roleKorean = map[Role]string{
	GeneralManager:    "총괄 책임자",
	OperationsManager: "운영 책임자",
	Manager:           "관리책임자",
	AccessHolder:      "접근권한자",
	Staff:             "업무담당",
}

// Korean is the role's name in the policy.
func (r Role) Korean() string { return roleKorean[r] }

// IsManager reports whether the role is one of the manager roles whose
// contact appears on signs and whose change is a drift.
func (r Role) IsManager() bool { return r == GeneralManager || r == OperationsManager || r == Manager }

// Person is one entry of the 관리책임자 및 접근권한자 table.
type Person struct {
	Role       Role     `yaml:"role"`
	Rank       string   `yaml:"rank,omitempty"` // 정 (primary) | 부 (deputy)
	Department string   `yaml:"department,omitempty"`
	Title      string   `yaml:"title"`
	Name       string   `yaml:"name,omitempty"`
	Phone      string   `yaml:"phone,omitempty"`
	Sites      []string `yaml:"sites,omitempty"` // site ids covered; empty: all sites
}

// Covers reports whether the person's scope includes the site.
func (p *Person) Covers(siteID string) bool {
	if len(p.Sites) == 0 {
		return true
	}
	for _, s := range p.Sites {
		if s == siteID {
			return true
		}
	}
	return false
}

// Outsourcing lists contractors operating cameras; no vendors means the
// policy states "해당내역 없음".
type Outsourcing struct {
	Vendors []Vendor `yaml:"vendors"`
}

// Vendor is a 수탁업체.
type Vendor struct {
	Name          string `yaml:"name"`
	ContactPerson string `yaml:"contact_person"`
	Phone         string `yaml:"phone"`
	Work          string `yaml:"work,omitempty"` // 위탁 업무 내용
}

// Confirmation states how and where a data subject can see footage.
type Confirmation struct {
	Method string `yaml:"method"`
	Place  string `yaml:"place"`
}

// Requests describes data-subject requests (열람·존재확인·삭제).
type Requests struct {
	Contact string `yaml:"contact"` // to whom: 영상정보처리기기 운영자, 접근권한자 …
	// DeadlineDays is the promised 처리기한 (10 in the standard form); nil
	// when the policy promises only to act 지체 없이.
	DeadlineDays *int `yaml:"deadline_days,omitempty"`
}

// Deadline is the promised processing deadline in days, and whether one is
// promised at all.
func (q Requests) Deadline() (int, bool) {
	if q.DeadlineDays == nil {
		return 0, false
	}
	return *q.DeadlineDays, true
}

// Capacity is the retention rule for a full storage volume. With
// EarlyDeletion the policy announces that the oldest footage may be deleted
// automatically before its retention period ends when storage runs out;
// the retention engine then records such a deletion as a 파기 by capacity
// and raises no broken-promise alarm. Without it, every early deletion is a
// broken promise and raises the alarm.
type Capacity struct {
	EarlyDeletion *bool `yaml:"early_deletion,omitempty"`
	// Wording is the institution's own public sentence for the rule
	// (영상정보 용량에 따라 보관기간 전후 자동 삭제); derived when empty.
	Wording string `yaml:"wording,omitempty"`
}

// Early reports whether early deletion by capacity is announced.
func (c Capacity) Early() bool { return c.EarlyDeletion != nil && *c.EarlyDeletion }

// CapacityRule is the capacity rule that applies to the site: its own when
// it states early_deletion, else the institution's.
func (r *Registry) CapacityRule(s *Site) Capacity {
	c := r.Capacity
	if s != nil && s.Capacity != nil {
		if s.Capacity.EarlyDeletion != nil {
			c.EarlyDeletion = s.Capacity.EarlyDeletion
			c.Wording = ""
		}
		if s.Capacity.Wording != "" {
			c.Wording = s.Capacity.Wording
		}
	}
	return c
}

// CapacityText is the public sentence announcing early deletion by
// capacity, or "" when none is announced.
func (c Capacity) Text() string {
	if !c.Early() {
		return ""
	}
	if c.Wording != "" {
		return c.Wording
	}
	return "저장 공간이 부족하면 보관기간이 끝나기 전이라도 가장 오래된 영상정보부터 자동으로 삭제될 수 있습니다."
}

// Safety holds the organisational and physical measures the institution
// declares; technical measures come from the running configuration.
type Safety struct {
	LockedStorage         bool `yaml:"locked_storage,omitempty"`
	RestrictedViewingRoom bool `yaml:"restricted_viewing_room,omitempty"`
	RevokeOnTransfer      bool `yaml:"revoke_on_transfer,omitempty"`
	PeriodicChecks        bool `yaml:"periodic_checks,omitempty"`
}

// Signage states where signs are posted.
type Signage struct {
	Placement string `yaml:"placement,omitempty"` // e.g. 본회 각 건물 주 출입구
}

// PolicyMeta is about the document itself and its history.
type PolicyMeta struct {
	Title            string     `yaml:"title,omitempty"`
	DocumentBasis    []LegalRef `yaml:"document_basis,omitempty"` // basis of the policy itself (제25조 제7항 …)
	Intro            string     `yaml:"intro,omitempty"`          // extra preface sentence after the standard one
	NoticeDays       *int       `yaml:"notice_days,omitempty"`    // promised notice before a change; 7 when absent, 0 = 지체 없이
	NoticeChannel    string     `yaml:"notice_channel"`           // e.g. 구로신협 홈페이지
	LawBrackets      *bool      `yaml:"law_brackets,omitempty"`   // 「」 around law names; true when absent
	Enacted          Date       `yaml:"enacted"`
	PastVersions     bool       `yaml:"past_versions,omitempty"` // link the past versions from the document
	PastVersionsNote string     `yaml:"past_versions_note,omitempty"`
	History          []Revision `yaml:"history"`
}

// Notice is the promised notice period in days (default 7).
func (p *PolicyMeta) Notice() int {
	if p.NoticeDays == nil {
		return 7
	}
	return *p.NoticeDays
}

// Brackets reports whether law names are written in 「」 (the default).
func (p *PolicyMeta) Brackets() bool { return p.LawBrackets == nil || *p.LawBrackets }

// IsEnactment reports whether history entry i is the enactment (제정)
// itself: the first entry, announced or effective on the enactment date.
// Otherwise it is an amendment (개정); a history may begin with a later
// amendment when the institution does not list its earliest ones.
func (p *PolicyMeta) IsEnactment(i int) bool {
	if i != 0 || len(p.History) == 0 {
		return false
	}
	h := p.History[0]
	return h.Announced == p.Enacted || h.Effective == p.Enacted
}

// TitleText is the document title.
func (p *PolicyMeta) TitleText() string {
	if p.Title != "" {
		return p.Title
	}
	return "영상정보처리기기 운영·관리 방침"
}

// Current is the last revision of the history.
func (p *PolicyMeta) Current() Revision {
	if len(p.History) == 0 {
		return Revision{}
	}
	return p.History[len(p.History)-1]
}

// Revision is one enactment or amendment of the policy.
type Revision struct {
	Announced       Date   `yaml:"announced,omitempty"` // 공고일자
	Effective       Date   `yaml:"effective"`           // 시행일자
	ImmediateReason string `yaml:"immediate_reason,omitempty"`
	Summary         string `yaml:"summary,omitempty"`
}

// Location is the organisation's time zone.
func (r *Registry) Location() *time.Location {
	if r.loc != nil {
		return r.loc
	}
	if l, err := time.LoadLocation(r.tz()); err == nil {
		return l
	}
	return time.FixedZone("KST", 9*3600)
}

func (r *Registry) tz() string {
	if r.Organization.Timezone == "" {
		return "Asia/Seoul"
	}
	return r.Organization.Timezone
}

// Site returns the site with the given id.
func (r *Registry) Site(id string) (*Site, bool) {
	for i := range r.Sites {
		if r.Sites[i].ID == id {
			return &r.Sites[i], true
		}
	}
	return nil, false
}

// CameraCount is the total number of cameras, derived from the groups.
func (r *Registry) CameraCount() int {
	n := 0
	for i := range r.Sites {
		n += r.Sites[i].CameraCount()
	}
	return n
}

// StreamCamera is a camera the recorder should connect to.
type StreamCamera struct {
	ID           string
	Site         string
	Group        string
	URL          string
	Transport    string // tcp | udp
	Username     string
	PasswordEnv  string // name of the environment variable holding the password
	PasswordFile string // path of the file holding the password
}

// StreamCameras lists every camera with a stream, in registry order.
// Cameras without a stream (not yet connected) are left out.
func (r *Registry) StreamCameras() []StreamCamera {
	var out []StreamCamera
	for _, s := range r.Sites {
		for _, g := range s.Groups {
			for _, c := range g.Cameras {
				if c.Stream == nil {
					continue
				}
				t := c.Stream.Transport
				if t == "" {
					t = "tcp"
				}
				out = append(out, StreamCamera{ID: c.ID, Site: s.ID, Group: g.ID, URL: c.Stream.URL, Transport: t,
					Username: c.Stream.Username, PasswordEnv: c.Stream.PasswordEnv, PasswordFile: c.Stream.PasswordFile})
			}
		}
	}
	return out
}

// Date is a civil date (no time, no zone), written 2006-01-02 in YAML.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, &valueError{code: "registry.date_bad", params: map[string]string{"value": s}}
	}
	return DateOf(t), nil
}

// DateOf is the civil date of t in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// String is 2006-01-02.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Start is 00:00 of the date in loc.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.Start(time.UTC).AddDate(0, 0, n)) }

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Start(time.UTC).Before(e.Start(time.UTC)) }

// Korean is the public wording: 2024년 1월 17일.
func (d Date) Korean() string { return fmt.Sprintf("%d년 %d월 %d일", d.Year, d.Month, d.Day) }

// UnmarshalYAML reads YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDate(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

var (
	idRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	phoneRE = regexp.MustCompile(`^(0[0-9]{1,2}-[0-9]{3,4}-[0-9]{4}|1[0-9]{3}-[0-9]{4})$`)
	envRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)
