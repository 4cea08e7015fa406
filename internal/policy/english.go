package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/registry"
)

// BuildEnglish renders the policy in English, for institutions that
// publish both: the fixed sentences are gwanje's, every text that comes
// from the registry (names, places, purposes, titles, wordings) is taken
// from the registry's english: table, and the organisation's name from
// organization.name_en. Articles written 제25조 제1항 become Article 25(1)
// by themselves. It fails with errs.Invalid naming, by registry path, each
// text that has no English, so that a half-Korean policy is never
// published as English.
func BuildEnglish(r *registry.Registry, f Facts, opt Options) (Document, error) {
	if opt.VersionsURL == "" {
		opt.VersionsURL = "/policy/versions"
	}
	b := &enBuilder{r: r, f: f, opt: opt}
	d := b.build()
	if len(b.missing) > 0 {
		sort.Strings(b.missing)
		return d, errs.Errorf("policy.BuildEnglish", errs.Invalid, "no English in the registry's english: table for %d texts:\n%s",
			len(b.missing), strings.Join(b.missing, "\n"))
	}
	return d, nil
}

type enBuilder struct {
	r       *registry.Registry
	f       Facts
	opt     Options
	secs    []Section
	missing []string
	seen    map[string]bool
}

// tr is the English of a registry text at path, or the text itself with
// the path noted as missing.
func (b *enBuilder) tr(path, ko string) string {
	ko = strings.TrimSpace(ko)
	if ko == "" {
		return ""
	}
	if en, ok := b.r.English[ko]; ok && strings.TrimSpace(en) != "" {
		return en
	}
	if en, ok := enBuiltin[ko]; ok {
		return en
	}
	if o := b.r.Organization; ko == o.Name && o.NameEn != "" {
		return o.NameEn
	}
	if !hasHangul(ko) {
		return ko
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	if !b.seen[ko] {
		b.seen[ko] = true
		b.missing = append(b.missing, fmt.Sprintf("%s: %q", path, ko))
	}
	return ko
}

// enBuiltin is the English of the few words every policy shares.
var enBuiltin = map[string]string{
	"제정": "Enactment", "개인정보보호법": "Personal Information Protection Act", "개인정보 보호법": "Personal Information Protection Act",
	"개인정보보호법 시행령":  "Enforcement Decree of the Personal Information Protection Act",
	"개인정보 보호법 시행령": "Enforcement Decree of the Personal Information Protection Act",
}

func hasHangul(s string) bool {
	for _, r := range s {
		if r >= 0xAC00 && r <= 0xD7A3 || r >= 0x1100 && r <= 0x11FF || r >= 0x3130 && r <= 0x318F {
			return true
		}
	}
	return false
}

func (b *enBuilder) org() string {
	o := b.r.Organization
	if o.NameEn != "" {
		return o.NameEn
	}
	return b.tr("organization.name", o.Name)
}

func (b *enBuilder) section(heading string, blocks ...Block) {
	b.secs = append(b.secs, Section{Heading: fmt.Sprintf("%d. %s", len(b.secs)+1, heading), Blocks: blocks})
}

// enDate is "17 January 2024".
func enDate(d registry.Date) string { return fmt.Sprintf("%d %s %d", d.Day, d.Month, d.Year) }

var articleRE = regexp.MustCompile(`^제\s*(\d+)\s*조(?:의\s*(\d+))?(?:\s*제\s*(\d+)\s*항)?(?:\s*제\s*(\d+)\s*호)?$`)

// article turns 제25조 제1항 into Article 25(1), 제6조의2 제3호 into
// Article 6-2, subparagraph 3.
func (b *enBuilder) article(path, ko string) string {
	m := articleRE.FindStringSubmatch(strings.TrimSpace(ko))
	if m == nil {
		return b.tr(path, ko)
	}
	s := "Article " + m[1]
	if m[2] != "" {
		s += "-" + m[2]
	}
	if m[3] != "" {
		s += "(" + m[3] + ")"
	}
	if m[4] != "" {
		s += ", subparagraph " + m[4]
	}
	return s
}

func (b *enBuilder) legalList(path string, refs []registry.LegalRef) string {
	var s []string
	for i, l := range refs {
		p := fmt.Sprintf("%s[%d]", path, i)
		s = append(s, strings.TrimSpace(b.article(p+".article", l.Article)+" of the "+b.tr(p+".law", strings.Trim(l.Law, "「」"))))
	}
	return strings.Join(s, " and ")
}

func (b *enBuilder) title() string {
	p := &b.r.Policy
	if p.Title == "" {
		return "Policy on the Operation and Management of Video Information Processing Devices"
	}
	return b.tr("policy.title", p.Title)
}

func (b *enBuilder) build() Document {
	r := b.r
	d := Document{Title: b.title()}
	d.Subtitle = append(d.Subtitle, b.org())
	cur := r.Policy.Current()
	if issued := firstDate(cur.Announced, cur.Effective); !issued.IsZero() {
		d.Subtitle = append(d.Subtitle, fmt.Sprintf("%s %d", issued.Month, issued.Year))
	}
	full := b.org()
	if r.Organization.Scope != "" {
		full += " (" + b.tr("organization.scope", r.Organization.Scope) + ")"
	}
	d.Intro = append(d.Intro, fmt.Sprintf("Through this policy, %s informs you of the purposes for which, and the manner in which, the video information it processes is used and managed.", full))
	if len(r.Policy.DocumentBasis) > 0 || r.Policy.Intro != "" {
		s := ""
		if len(r.Policy.DocumentBasis) > 0 {
			s = "Under " + b.legalList("policy.document_basis", r.Policy.DocumentBasis) + ", " + b.org() + " publishes this policy."
		}
		if r.Policy.Intro != "" {
			s = strings.TrimSpace(s + " " + b.tr("policy.intro", r.Policy.Intro))
		}
		d.Intro = append(d.Intro, s)
	}
	var purposes []string
	for i, p := range r.Purposes {
		purposes = append(purposes, b.tr(fmt.Sprintf("purposes[%d]", i), p))
	}
	b.section("Legal basis and purposes of installation",
		para("%s installs and operates video information processing devices under %s for the following purposes.", b.org(), b.legalList("legal_basis", r.LegalBasis)),
		Block{Kind: List, Items: purposes})
	b.section("Number of devices, their locations and what they record", b.cameras())
	b.section("Managers and persons with access",
		para("To protect your video information and to handle complaints about personal video information, we have designated the following persons."),
		b.people())
	b.section("Recording hours, retention period, storage place and processing", b.retention()...)
	if r.Outsourcing != nil {
		b.section("Outsourcing of installation and management", b.outsourcing()...)
	}
	b.section("How and where to view your personal video information", Block{Kind: List, Items: []string{
		"How: " + b.tr("confirmation.method", r.Confirmation.Method),
		"Where: " + b.tr("confirmation.place", r.Confirmation.Place),
	}})
	act := fmt.Sprintf("%s will take the necessary measures without delay when you ask to view personal video information, to confirm that it exists or to delete it.", b.org())
	if days, ok := r.Requests.Deadline(); ok {
		act += fmt.Sprintf(" A request made with the request form (Form No. 1) is processed within %d days of its receipt.", days)
	}
	b.section("Measures on a data subject's request to view",
		para("You may at any time ask %s to view personal video information, to confirm that it exists or to delete it. This is limited to personal video information in which you were recorded and to information clearly necessary for the urgent life, bodily or property interests of a data subject.", b.tr("requests.contact", r.Requests.Contact)),
		para("%s", act))
	b.section("Measures to secure the video information", b.safety()...)
	if r.Signage.Placement != "" {
		b.section("Other matters on installation, operation and management",
			para("Signs are posted at %s so that data subjects can easily recognise where video information processing devices are installed and operated.", b.tr("signage.placement", r.Signage.Placement)))
	}
	b.section("Changes to this policy", b.changes()...)
	d.Sections = b.secs
	if !cur.Effective.IsZero() {
		d.Closing = append(d.Closing, enDate(cur.Effective))
	}
	if r.Organization.Signatory != "" {
		d.Closing = append(d.Closing, b.tr("organization.signatory", r.Organization.Signatory))
	}
	return d
}

func cameras(n int) string {
	if n == 1 {
		return "1 camera"
	}
	return fmt.Sprintf("%d cameras", n)
}

func lensEn(t registry.LensType) string {
	switch t {
	case registry.PTZ:
		return "pan-tilt-zoom"
	case registry.Fixed:
		return "fixed"
	}
	return ""
}

func (b *enBuilder) rangeText(path string, g *registry.Group) string {
	if g.Range != "" {
		return b.tr(path+".range", g.Range)
	}
	if g.RadiusM > 0 {
		return fmt.Sprintf("within about %s m of the camera", strings.TrimSuffix(fmt.Sprintf("%g", g.RadiusM), ".0"))
	}
	return ""
}

func (b *enBuilder) cameras() Block {
	t := Block{Kind: Table, Header: []string{"Site", "Cameras", "Locations and coverage"}}
	for i := range b.r.Sites {
		s := &b.r.Sites[i]
		sp := fmt.Sprintf("sites[%d]", i)
		types := map[registry.LensType]int{}
		var order []registry.LensType
		for _, g := range s.Groups {
			if _, ok := types[g.Type]; !ok {
				order = append(order, g.Type)
			}
			types[g.Type] += g.CameraCount()
		}
		var count []string
		for _, ty := range order {
			if ty == "" {
				count = append(count, cameras(types[ty]))
			} else {
				count = append(count, lensEn(ty)+": "+cameras(types[ty]))
			}
		}
		var where []string
		angles := map[string]bool{}
		for j := range s.Groups {
			g := &s.Groups[j]
			gp := fmt.Sprintf("%s.groups[%d]", sp, j)
			line := b.tr(gp+".location", g.Location)
			if len(s.Groups) > 1 {
				line += ": " + cameras(g.CameraCount())
			}
			if rt := b.rangeText(gp, g); rt != "" {
				if len(s.Groups) > 1 {
					line += " (" + rt + ")"
				} else {
					where = append(where, line)
					line = rt
				}
			}
			where = append(where, line)
			if a := g.AnglesText(); a != "" {
				angles[string(g.Type)+"|"+a] = true
			}
		}
		for _, g := range s.Groups {
			key := string(g.Type) + "|" + g.AnglesText()
			if angles[key] {
				delete(angles, key)
				label := "Field of view"
				if g.Type != "" {
					label = "Field of view (" + lensEn(g.Type) + ")"
				}
				where = append(where, label+": "+g.AnglesText())
			}
		}
		t.Rows = append(t.Rows, []string{b.tr(sp+".name", s.Name), strings.Join(count, ", "), strings.Join(where, "\n")})
	}
	if len(b.r.Sites) > 1 {
		t.Rows = append(t.Rows, []string{"Total", cameras(b.r.CameraCount()), ""})
	}
	return t
}

var roleEn = map[registry.Role]string{
	registry.GeneralManager:    "General manager",
	registry.OperationsManager: "Operations manager",
	registry.Manager:           "Manager",
	registry.AccessHolder:      "Person with access",
	registry.Staff:             "Staff in charge",
}

var rankEn = map[string]string{"정": "Primary", "부": "Deputy"}

func (b *enBuilder) people() Block {
	multi := len(b.r.Sites) > 1
	var named, ranked, depts bool
	for _, p := range b.r.Personnel {
		named = named || p.Name != ""
		ranked = ranked || p.Rank != ""
		depts = depts || p.Department != ""
	}
	t := Block{Kind: Table}
	col := func(on bool, name string) {
		if on {
			t.Header = append(t.Header, name)
		}
	}
	col(multi, "Site")
	col(true, "Role")
	col(ranked, "Primary/deputy")
	col(depts, "Department")
	col(true, "Title")
	col(named, "Name")
	col(true, "Phone")
	for i, p := range b.r.Personnel {
		pp := fmt.Sprintf("personnel[%d]", i)
		var row []string
		cell := func(on bool, v string) {
			if on {
				row = append(row, v)
			}
		}
		sites := "All sites"
		if len(p.Sites) > 0 {
			var n []string
			for _, id := range p.Sites {
				for k := range b.r.Sites {
					if b.r.Sites[k].ID == id {
						n = append(n, b.tr(fmt.Sprintf("sites[%d].name", k), b.r.Sites[k].Name))
					}
				}
			}
			sites = strings.Join(n, ", ")
		}
		cell(multi, sites)
		cell(true, roleEn[p.Role])
		cell(ranked, rankEn[p.Rank])
		cell(depts, b.tr(pp+".department", p.Department))
		cell(true, b.tr(pp+".title", p.Title))
		cell(named, b.tr(pp+".name", p.Name))
		cell(true, p.Phone)
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (b *enBuilder) retentionText(i int) string {
	s := &b.r.Sites[i]
	if s.RetentionWording != "" {
		return b.tr(fmt.Sprintf("sites[%d].retention_wording", i), s.RetentionWording)
	}
	return s.Retention.English() + " from the recording date"
}

func (b *enBuilder) recording() string {
	rec := b.r.Recording
	switch {
	case rec.Wording != "":
		return b.tr("recording.wording", rec.Wording)
	case rec.Continuous():
		return "24 hours"
	}
	return strings.Replace(rec.Hours, "-", "–", 1)
}

func (b *enBuilder) retention() []Block {
	r := b.r
	uniformRet, uniformStore := true, true
	for i := range r.Sites {
		uniformRet = uniformRet && r.Sites[i].RetentionText() == r.Sites[0].RetentionText()
		uniformStore = uniformStore && r.Sites[i].Storage == r.Sites[0].Storage
	}
	var out []Block
	if uniformRet && (uniformStore || r.StorageSummary != "") {
		store := b.tr("sites[0].storage", r.Sites[0].Storage)
		if !uniformStore {
			store = b.tr("storage_summary", r.StorageSummary)
		}
		out = append(out, Block{Kind: Table, Header: []string{"Recording hours", "Retention period", "Storage place"},
			Rows: [][]string{{b.recording(), b.retentionText(0), store}}})
	} else {
		t := Block{Kind: Table, Header: []string{"Site", "Recording hours", "Retention period", "Storage place"}}
		for i, s := range r.Sites {
			t.Rows = append(t.Rows, []string{b.tr(fmt.Sprintf("sites[%d].name", i), s.Name), b.recording(), b.retentionText(i), b.tr(fmt.Sprintf("sites[%d].storage", i), s.Storage)})
		}
		out = append(out, t)
	}
	if r.RetentionNote != "" {
		out = append(out, Block{Kind: Note, Text: "※ " + b.tr("retention_note", r.RetentionNote)})
	}
	var texts []string
	sites := map[string][]string{}
	for i := range r.Sites {
		c := r.CapacityRule(&r.Sites[i])
		if !c.Early() {
			continue
		}
		t := "When storage runs short, the oldest video information may be deleted automatically even before its retention period ends."
		if c.Wording != "" {
			t = b.tr("capacity.wording", c.Wording)
		}
		if _, ok := sites[t]; !ok {
			texts = append(texts, t)
		}
		sites[t] = append(sites[t], b.tr(fmt.Sprintf("sites[%d].name", i), r.Sites[i].Name))
	}
	for _, t := range texts {
		if len(sites[t]) == len(r.Sites) {
			out = append(out, Block{Kind: Note, Text: "※ " + t})
		} else {
			out = append(out, Block{Kind: Note, Text: "※ " + strings.Join(sites[t], ", ") + ": " + t})
		}
	}
	var proc []string
	for i, p := range r.Processing {
		proc = append(proc, b.tr(fmt.Sprintf("processing[%d]", i), p))
	}
	out = append(out, Block{Kind: List, Title: "Processing", Items: proc})
	return out
}

func (b *enBuilder) outsourcing() []Block {
	t := Block{Kind: Table, Header: []string{"Contractor", "Contact person", "Phone"}}
	if len(b.r.Outsourcing.Vendors) == 0 {
		t.Rows = [][]string{{"None", "", ""}}
		return []Block{para("%s does not outsource the installation or management of video information processing devices.", b.org()), t}
	}
	for i, v := range b.r.Outsourcing.Vendors {
		vp := fmt.Sprintf("outsourcing.vendors[%d]", i)
		name := b.tr(vp+".name", v.Name)
		if v.Work != "" {
			name += " (" + b.tr(vp+".work", v.Work) + ")"
		}
		t.Rows = append(t.Rows, []string{name, b.tr(vp+".contact_person", v.ContactPerson), v.Phone})
	}
	return []Block{para("%s outsources the operation of video information processing devices as follows, and its contracts lay down what is needed to keep personal information safe, as the law requires.", b.org()), t}
}

func (b *enBuilder) safety() []Block {
	f := b.f
	var tech, admin, phys []string
	if f.EncryptionAtRest {
		tech = append(tech, fmt.Sprintf("The video information %s processes is kept safe by encryption, among other measures.", b.org()))
	}
	if f.PasswordProtected {
		tech = append(tech, "When personal video information is processed or its files are sent or received, passwords and the other measures needed are in place so that it is not lost, stolen, leaked, altered or damaged.")
	}
	if f.DifferentiatedAccess {
		admin = append(admin, "As an administrative measure, access to personal video information is granted differently by role and limited to the fewest designated persons, the managers and the persons with access.")
	}
	if f.AccessLogging {
		admin = append(admin, "To prevent forgery and alteration, the time personal video information was created and, for each viewing, its purpose, viewer and time are recorded and kept.")
	}
	if f.RevokeOnTransfer {
		admin = append(admin, "When a person's access changes through transfer, retirement or another change of post, the access is changed or revoked without delay.")
	}
	if f.PeriodicChecks {
		admin = append(admin, "To prevent forgery and alteration of personal video information, the devices are checked regularly for correct operation.")
	}
	if f.ViewingRoomRestricted {
		phys = append(phys, "The place where personal video information is viewed and played back is a restricted area; entry, viewing and playback by anyone without access are controlled.")
	}
	if f.LockedStorage {
		phys = append(phys, "Locks are installed to keep personal video information physically safe.")
	}
	var out []Block
	for _, g := range []struct {
		title string
		items []string
	}{{"Technical measures", tech}, {"Administrative measures", admin}, {"Physical measures", phys}} {
		if len(g.items) > 0 {
			out = append(out, Block{Kind: List, Title: g.title, Items: g.items})
		}
	}
	if len(out) == 0 {
		out = append(out, para("No separate security measure is currently in place."))
	}
	return out
}

func (b *enBuilder) changes() []Block {
	p := &b.r.Policy
	when := "without delay"
	if n := p.Notice(); n > 0 {
		when = fmt.Sprintf("at least %d days before they take effect", n)
	}
	var amended []string
	for i, h := range p.History {
		if !p.IsEnactment(i) {
			amended = append(amended, enDate(firstDate(h.Announced, h.Effective)))
		}
	}
	history := "was enacted on " + enDate(p.Enacted)
	if len(amended) > 0 {
		history += " and amended on " + strings.Join(amended, ", ")
	}
	out := []Block{para("This policy %s. When its content is added to, deleted or amended following changes of law, policy or security technology, the reasons and the content will be announced through %s %s.",
		history, b.tr("policy.notice_channel", p.NoticeChannel), when)}
	if len(amended) > 0 {
		t := Block{Kind: Table, Title: "History of this policy", Header: []string{"Type", "Announced", "Effective", "Summary"}}
		for i, h := range p.History {
			kind := "Amendment"
			if p.IsEnactment(i) {
				kind = "Enactment"
			}
			announced := ""
			if !h.Announced.IsZero() {
				announced = enDate(h.Announced)
			}
			t.Rows = append(t.Rows, []string{kind, announced, enDate(h.Effective), b.tr(fmt.Sprintf("policy.history[%d].summary", i), h.Summary)})
		}
		out = append(out, t)
	}
	cur := p.Current()
	line := "Effective: " + enDate(cur.Effective)
	if !cur.Announced.IsZero() {
		line = "Announced: " + enDate(cur.Announced) + " / " + line
	}
	out = append(out, Block{Kind: List, Items: []string{line}})
	if p.PastVersions {
		text := "Past versions can be found below."
		if p.PastVersionsNote != "" {
			text += " (" + b.tr("policy.past_versions_note", p.PastVersionsNote) + ")"
		}
		out = append(out, para("%s", text), Block{Kind: Link, Text: "Previous versions of this policy", Href: b.opt.VersionsURL})
	}
	return out
}
