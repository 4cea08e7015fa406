// Package policy turns the registry into the public 영상정보처리기기
// 운영·관리 방침 (PIPA Art. 25⑦) — as HTML at /policy, Markdown and PDF —
// and keeps its published versions, their diffs, the drift between what was
// published and what runs, the signs (Art. 25④) and the request form
// (별지 제1호). Every sentence comes from the registry or from Facts about the
// running system, so the document cannot promise what gwanje does not do.
package policy

import (
	"fmt"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/registry"
)

// Document is a rendered policy independent of output format. It is what a
// published version stores, so a version reads the same for ever even when
// the renderer changes.
type Document struct {
	Title    string    `json:"title"`
	Subtitle []string  `json:"subtitle,omitempty"`
	Intro    []string  `json:"intro,omitempty"`
	Sections []Section `json:"sections"`
	Closing  []string  `json:"closing,omitempty"`
}

// Section is one numbered section.
type Section struct {
	Heading string  `json:"heading"` // with its number: "1. 영상정보처리기기의 설치 근거 및 설치 목적"
	Blocks  []Block `json:"blocks"`
}

// BlockKind says how a Block is laid out.
type BlockKind string

// Block kinds.
const (
	Para  BlockKind = "para"
	List  BlockKind = "list"
	Table BlockKind = "table"
	Link  BlockKind = "link"
	Note  BlockKind = "note"
)

// Block is a paragraph, list, table, note or link. Table cells may hold
// several lines separated by "\n".
type Block struct {
	Kind   BlockKind  `json:"kind"`
	Title  string     `json:"title,omitempty"` // a list's or table's caption
	Text   string     `json:"text,omitempty"`
	Items  []string   `json:"items,omitempty"`
	Header []string   `json:"header,omitempty"`
	Rows   [][]string `json:"rows,omitempty"`
	Href   string     `json:"href,omitempty"`
}

// Facts are what the running system really does. The lead fills them from
// the configuration; a safety sentence is rendered only when its fact holds.
type Facts struct {
	EncryptionAtRest      bool // footage is encrypted on disk
	PasswordProtected     bool // viewing and transfer need authentication
	DifferentiatedAccess  bool // roles limit who sees which site
	AccessLogging         bool // creation time and every viewing (purpose, viewer, time) are recorded
	RevokeOnTransfer      bool // access is revoked at once on transfer or retirement
	PeriodicChecks        bool // cameras are checked regularly
	ViewingRoomRestricted bool // footage is viewed only in a restricted room
	LockedStorage         bool // the recorder is under lock
}

// Declared returns f with the organisational and physical measures the
// registry declares (safety:) added: software cannot check a lock, a
// transfer procedure or a periodic check. The restricted viewing room is
// not among them: gwanje enforces it (footage is viewed only from the
// room's network), so it is stated only when the running configuration
// says so (ViewingRoomRestricted); the registry's restricted_viewing_room
// then only asks for it, and Unbacked names it when it is missing.
func (f Facts) Declared(r *registry.Registry) Facts {
	f.LockedStorage = f.LockedStorage || r.Safety.LockedStorage
	f.RevokeOnTransfer = f.RevokeOnTransfer || r.Safety.RevokeOnTransfer
	f.PeriodicChecks = f.PeriodicChecks || r.Safety.PeriodicChecks
	return f
}

// Unbacked lists the measures the registry asks the policy to state that
// the running system does not enforce. Publishing refuses them: the
// policy would promise what nothing does.
func Unbacked(r *registry.Registry, f Facts) []string {
	var out []string
	if r.Safety.RestrictedViewingRoom && !f.ViewingRoomRestricted {
		out = append(out, "restricted_viewing_room")
	}
	return out
}

// Options adjust rendering.
type Options struct {
	// VersionsURL is linked as "이전 … 바로가기" when the registry asks for
	// past versions; "/policy/versions" when empty.
	VersionsURL string
}

// Build renders the registry and facts into a Document.
func Build(r *registry.Registry, f Facts, opt Options) Document {
	if opt.VersionsURL == "" {
		opt.VersionsURL = "/policy/versions"
	}
	b := builder{r: r, f: f, opt: opt}
	return b.build()
}

type builder struct {
	r    *registry.Registry
	f    Facts
	opt  Options
	secs []Section
}

func (b *builder) org() string {
	if b.r.Organization.ShortName != "" {
		return b.r.Organization.ShortName
	}
	return b.r.Organization.Name
}

func (b *builder) section(heading string, blocks ...Block) {
	b.secs = append(b.secs, Section{Heading: fmt.Sprintf("%d. %s", len(b.secs)+1, heading), Blocks: blocks})
}

func para(format string, a ...any) Block { return Block{Kind: Para, Text: fmt.Sprintf(format, a...)} }

func (b *builder) build() Document {
	r := b.r
	o := r.Organization
	d := Document{Title: r.Policy.TitleText()}
	d.Subtitle = append(d.Subtitle, o.Name)
	if o.NameEn != "" {
		d.Subtitle = append(d.Subtitle, o.NameEn)
	}
	cur := r.Policy.Current()
	if issued := firstDate(cur.Announced, cur.Effective); !issued.IsZero() {
		d.Subtitle = append(d.Subtitle, fmt.Sprintf("%d. %d.", issued.Year, issued.Month))
	}

	full := o.Name
	if o.Scope != "" {
		full += "(" + o.Scope + ")"
	}
	if o.ShortName != "" {
		full += "(이하 “" + o.ShortName + "”이라 함)"
	}
	d.Intro = append(d.Intro, fmt.Sprintf("%s 영상정보처리기기 운영·관리 방침을 통해 %s에서 처리하는 영상정보가 어떠한 용도와 방식으로 이용·관리되고 있는지 알려드립니다.",
		josa(full, "은", "는"), b.org()))
	if len(r.Policy.DocumentBasis) > 0 || r.Policy.Intro != "" {
		s := josa(o.Name, "은", "는")
		if len(r.Policy.DocumentBasis) > 0 {
			s += " " + b.legalList(r.Policy.DocumentBasis) + "에 따라"
		}
		d.Intro = append(d.Intro, strings.TrimSpace(s+" "+r.Policy.Intro))
	}

	b.section("영상정보처리기기의 설치 근거 및 설치 목적",
		para("%s %s에 따라 다음과 같은 목적으로 영상정보처리기기를 설치·운영합니다.", josa(b.org(), "은", "는"), b.legalList(r.LegalBasis)),
		Block{Kind: List, Items: r.Purposes})
	b.section("설치 대수, 설치 위치 및 촬영범위", b.cameras())
	b.section("관리책임자 및 접근권한자",
		para("귀하의 영상정보를 보호하고 개인영상정보와 관련한 불만을 처리하기 위하여 아래와 같이 개인영상정보 보호책임자를 두고 있습니다."),
		b.people())
	b.section("영상정보의 촬영시간, 보관기간, 보관장소 및 처리방법", b.retention()...)
	if r.Outsourcing != nil {
		b.section("영상정보처리기기 설치 및 관리 등의 위탁에 관한 사항", b.outsourcing()...)
	}
	b.section("개인영상정보의 확인 방법 및 장소에 관한 사항", Block{Kind: List, Items: []string{
		"확인 방법 : " + r.Confirmation.Method,
		"확인 장소 : " + r.Confirmation.Place,
	}})
	b.section("정보주체의 영상정보 열람 등 요구에 대한 조치",
		para("귀하는 개인영상정보에 관하여 열람 또는 존재확인·삭제를 원하는 경우 언제든지 %s에게 요구하실 수 있습니다. 단, 귀하가 촬영된 개인영상정보 및 명백히 정보주체의 급박한 생명, 신체, 재산의 이익을 위하여 필요한 개인영상정보에 한정됩니다.", r.Requests.Contact),
		b.requestAction())
	b.section("영상정보의 안전성 확보조치", b.safety()...)
	if r.Signage.Placement != "" {
		b.section("그 밖에 영상정보처리기기의 설치·운영 및 관리에 필요한 사항",
			para("영상정보처리기기 설치·운영 장소임을 정보주체가 쉽게 인식할 수 있도록 %s에 안내판을 부착하여 안내하고 있습니다.", r.Signage.Placement))
	}
	b.section("영상정보처리기기 운영·관리 방침 변경에 관한 사항", b.changes()...)
	d.Sections = b.secs
	if !cur.Effective.IsZero() {
		d.Closing = append(d.Closing, cur.Effective.Korean())
	}
	if o.Signatory != "" {
		d.Closing = append(d.Closing, o.Signatory)
	}
	return d
}

func firstDate(ds ...registry.Date) registry.Date {
	for _, d := range ds {
		if !d.IsZero() {
			return d
		}
	}
	return registry.Date{}
}

func (b *builder) legalList(refs []registry.LegalRef) string {
	var s []string
	for _, l := range refs {
		if b.r.Policy.Brackets() {
			s = append(s, l.Bracketed())
		} else {
			s = append(s, l.String())
		}
	}
	return strings.Join(s, " 및 ")
}

func (b *builder) cameras() Block {
	t := Block{Kind: Table, Header: []string{"구분", "설치대수", "설치 위치 및 촬영범위"}}
	for i := range b.r.Sites {
		s := &b.r.Sites[i]
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
				count = append(count, fmt.Sprintf("%d대", types[ty]))
			} else {
				count = append(count, fmt.Sprintf("%s : %d대", ty.Korean(), types[ty]))
			}
		}
		var where []string
		angles := map[string]bool{}
		for _, g := range s.Groups {
			line := g.Location
			if len(s.Groups) > 1 {
				line += fmt.Sprintf(" %d대", g.CameraCount())
			}
			if rt := g.RangeText(); rt != "" {
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
				label := "화각"
				if g.Type != "" {
					label = g.Type.Korean() + "형"
					if g.Type == registry.PTZ {
						label = g.Type.Korean()
					}
				}
				where = append(where, label+" : "+g.AnglesText())
			}
		}
		t.Rows = append(t.Rows, []string{s.Name, strings.Join(count, ", "), strings.Join(where, "\n")})
	}
	if len(b.r.Sites) > 1 {
		t.Rows = append(t.Rows, []string{"합계", fmt.Sprintf("%d대", b.r.CameraCount()), ""})
	}
	return t
}

func (b *builder) people() Block {
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
	col(multi, "사업장")
	col(true, "구분")
	col(ranked, "정/부")
	col(depts, "소속")
	col(true, "직위")
	col(named, "성명")
	col(true, "연락처")
	for _, p := range b.r.Personnel {
		var row []string
		cell := func(on bool, v string) {
			if on {
				row = append(row, v)
			}
		}
		cell(multi, b.siteNames(p.Sites))
		cell(true, p.Role.Korean())
		cell(ranked, p.Rank)
		cell(depts, p.Department)
		cell(true, p.Title)
		cell(named, p.Name)
		cell(true, p.Phone)
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (b *builder) siteNames(ids []string) string {
	if len(ids) == 0 {
		return "전체"
	}
	var n []string
	for _, id := range ids {
		if s, ok := b.r.Site(id); ok {
			n = append(n, s.Name)
		}
	}
	return strings.Join(n, ", ")
}

func (b *builder) retention() []Block {
	r := b.r
	uniformRet, uniformStore := true, true
	for i := range r.Sites {
		uniformRet = uniformRet && r.Sites[i].RetentionText() == r.Sites[0].RetentionText()
		uniformStore = uniformStore && r.Sites[i].Storage == r.Sites[0].Storage
	}
	var out []Block
	if uniformRet && (uniformStore || r.StorageSummary != "") {
		store := r.Sites[0].Storage
		if !uniformStore {
			store = r.StorageSummary
		}
		out = append(out, Block{Kind: Table, Header: []string{"촬영시간", "보관기간", "보관장소"},
			Rows: [][]string{{r.Recording.Text(), r.Sites[0].RetentionText(), store}}})
	} else {
		t := Block{Kind: Table, Header: []string{"사업장", "촬영시간", "보관기간", "보관장소"}}
		for _, s := range r.Sites {
			t.Rows = append(t.Rows, []string{s.Name, r.Recording.Text(), s.RetentionText(), s.Storage})
		}
		out = append(out, t)
	}
	if r.RetentionNote != "" {
		out = append(out, Block{Kind: Note, Text: "※ " + r.RetentionNote})
	}
	out = append(out, b.capacityNotes()...)
	out = append(out, Block{Kind: List, Title: "처리방법", Items: r.Processing})
	return out
}

// capacityNotes announce early deletion by capacity where the registry's
// rule allows it: one note when every site has the same rule, else one
// per wording naming its sites. The retention engine obeys the same rule.
func (b *builder) capacityNotes() []Block {
	r := b.r
	var texts []string
	sites := map[string][]string{}
	for i := range r.Sites {
		t := r.CapacityRule(&r.Sites[i]).Text()
		if t == "" {
			continue
		}
		if _, ok := sites[t]; !ok {
			texts = append(texts, t)
		}
		sites[t] = append(sites[t], r.Sites[i].Name)
	}
	var out []Block
	for _, t := range texts {
		if len(sites[t]) == len(r.Sites) {
			out = append(out, Block{Kind: Note, Text: "※ " + t})
		} else {
			out = append(out, Block{Kind: Note, Text: "※ " + strings.Join(sites[t], ", ") + ": " + t})
		}
	}
	return out
}

func (b *builder) outsourcing() []Block {
	t := Block{Kind: Table, Header: []string{"수탁업체", "담당자", "연락처"}}
	if len(b.r.Outsourcing.Vendors) == 0 {
		t.Rows = [][]string{{"해당내역 없음", "", ""}}
		return []Block{para("%s 영상정보처리기기의 설치 및 관리 등을 위탁하고 있지 않습니다.", josa(b.org(), "은", "는")), t}
	}
	for _, v := range b.r.Outsourcing.Vendors {
		name := v.Name
		if v.Work != "" {
			name += " (" + v.Work + ")"
		}
		t.Rows = append(t.Rows, []string{name, v.ContactPerson, v.Phone})
	}
	return []Block{para("%s 영상정보처리기기의 운영을 아래와 같이 위탁하고 있으며, 관계 법령에 따라 위탁 계약시 개인정보가 안전하게 관리될 수 있도록 필요한 사항을 규정하고 있습니다.", josa(b.org(), "은", "는")), t}
}

// requestAction is the promise to act on a request: 지체 없이, and within
// the deadline only when the registry promises one.
func (b *builder) requestAction() Block {
	text := fmt.Sprintf("%s 개인영상정보에 관하여 열람 또는 존재확인·삭제를 요구한 경우 지체 없이 필요한 조치를 하겠습니다.", josa(b.org(), "은", "는"))
	if d, ok := b.r.Requests.Deadline(); ok {
		text += fmt.Sprintf(" 개인영상정보 열람·존재확인 청구서(별지 제1호 서식)를 받은 날부터 %d일 이내에 처리합니다.", d)
	}
	return para("%s", text)
}

// Safety sentences, each rendered only when its fact holds.
const (
	SentenceEncryption    = "%s에서 처리하는 영상정보는 암호화 조치 등을 통하여 안전하게 관리되고 있습니다."
	SentencePassword      = "개인영상정보를 처리하거나 개인영상정보파일을 송·수신하는 경우 영상정보가 분실·도난·누출·변조 또는 훼손되지 아니하도록 비밀번호 설정 등 안전성 확보에 필요한 조치를 취하고 있습니다."
	SentenceDifferential  = "개인영상정보보호를 위한 관리적 대책으로서 개인정보에 대한 접근 권한을 차등부여하고 있으며, 접근권한은 관리책임자 및 접근권한자 등 지정된 최소한의 인원으로 제한하고 있습니다."
	SentenceAccessLogging = "개인영상정보의 위·변조 방지를 위하여 개인영상정보의 생성 일시, 열람 시 열람 목적·열람자·열람 일시 등을 기록하여 관리하고 있습니다."
	SentenceRevoke        = "전보, 퇴직 등 인사이동 사유가 발생하여 접근 권한이 변경된 경우에는 지체 없이 권한을 변경 또는 말소합니다."
	SentencePeriodic      = "개인영상정보의 위·변조를 방지하기 위하여 영상정보처리기기의 정상작동 여부를 정기적으로 점검하고 있습니다."
	SentenceViewingRoom   = "영상정보처리기기에 의하여 전송되는 개인영상정보가 열람·재생되는 장소를 출입 제한구역으로 지정하고 접근 권한이 부여된 자 외의 출입 및 열람·재생을 통제하고 있습니다."
	SentenceLock          = "개인영상정보의 안전한 물리적 보관을 위하여 잠금장치를 설치하고 있습니다."
	SentenceNone          = "현재 시행 중인 별도의 안전성 확보조치가 없습니다."
)

func (b *builder) safety() []Block {
	f := b.f
	var tech, admin, phys []string
	if f.EncryptionAtRest {
		tech = append(tech, fmt.Sprintf(SentenceEncryption, b.org()))
	}
	if f.PasswordProtected {
		tech = append(tech, SentencePassword)
	}
	if f.DifferentiatedAccess {
		admin = append(admin, SentenceDifferential)
	}
	if f.AccessLogging {
		admin = append(admin, SentenceAccessLogging)
	}
	if f.RevokeOnTransfer {
		admin = append(admin, SentenceRevoke)
	}
	if f.PeriodicChecks {
		admin = append(admin, SentencePeriodic)
	}
	if f.ViewingRoomRestricted {
		phys = append(phys, SentenceViewingRoom)
	}
	if f.LockedStorage {
		phys = append(phys, SentenceLock)
	}
	var out []Block
	for _, g := range []struct {
		title string
		items []string
	}{{"기술적 조치", tech}, {"관리적 조치", admin}, {"물리적 조치", phys}} {
		if len(g.items) > 0 {
			out = append(out, Block{Kind: List, Title: g.title, Items: g.items})
		}
	}
	if len(out) == 0 {
		out = append(out, para(SentenceNone))
	}
	return out
}

func (b *builder) changes() []Block {
	p := &b.r.Policy
	when := "지체 없이"
	if n := p.Notice(); n > 0 {
		when = fmt.Sprintf("시행하기 최소 %d일 전에", n)
	}
	var amended []string
	for i, h := range p.History {
		if !p.IsEnactment(i) {
			amended = append(amended, firstDate(h.Announced, h.Effective).Korean())
		}
	}
	history := p.Enacted.Korean() + "에 제정되었으며,"
	if len(amended) > 0 {
		history = p.Enacted.Korean() + "에 제정되어 " + strings.Join(amended, ", ") + "에 개정되었으며,"
	}
	out := []Block{para("이 %s %s 법령·정책 또는 보안기술의 변경에 따라 내용의 추가·삭제 및 수정이 있을 시에는 %s %s 통해 변경사유 및 내용 등을 공지하도록 하겠습니다.",
		josa(p.TitleText(), "은", "는"), history, when, josa(p.NoticeChannel, "을", "를"))}
	if len(amended) > 0 {
		t := Block{Kind: Table, Title: "방침 변경 이력", Header: []string{"구분", "공고일자", "시행일자", "주요 내용"}}
		for i, h := range p.History {
			kind := "개정"
			if p.IsEnactment(i) {
				kind = "제정"
			}
			announced := ""
			if !h.Announced.IsZero() {
				announced = h.Announced.Korean()
			}
			t.Rows = append(t.Rows, []string{kind, announced, h.Effective.Korean(), h.Summary})
		}
		out = append(out, t)
	}
	cur := p.Current()
	line := "시행일자 : " + cur.Effective.Korean()
	if !cur.Announced.IsZero() {
		line = "공고일자 : " + cur.Announced.Korean() + " / " + line
	}
	out = append(out, Block{Kind: List, Items: []string{line}})
	if p.PastVersions {
		text := "과거 공시 내용은 아래에서 확인하실 수 있습니다."
		if p.PastVersionsNote != "" {
			text += " (" + p.PastVersionsNote + ")"
		}
		out = append(out, para("%s", text), Block{Kind: Link, Text: "이전 " + p.TitleText() + " 바로가기", Href: b.opt.VersionsURL})
	}
	return out
}

// josa appends the particle that fits the last syllable of w: withBatchim
// after a final consonant (은, 을, 이), without otherwise (는, 를, 가).
func josa(w, withBatchim, without string) string {
	base := strings.TrimSpace(w)
	for strings.HasSuffix(base, ")") && strings.LastIndex(base, "(") > 0 {
		base = strings.TrimSpace(base[:strings.LastIndex(base, "(")])
	}
	rs := []rune(strings.TrimRight(base, "”\""))
	if len(rs) == 0 {
		return w + without
	}
	last := rs[len(rs)-1]
	if last >= 0xAC00 && last <= 0xD7A3 && (last-0xAC00)%28 != 0 {
		return w + withBatchim
	}
	if last >= '0' && last <= '9' {
		// 0 1 3 6 7 8 end in a consonant when read in Korean.
		if strings.ContainsRune("013678", last) {
			return w + withBatchim
		}
	}
	return w + without
}

// factNames are the names ParseFacts accepts, for the CLI and config.
var factNames = map[string]func(*Facts){
	"encryption":     func(f *Facts) { f.EncryptionAtRest = true },
	"password":       func(f *Facts) { f.PasswordProtected = true },
	"differentiated": func(f *Facts) { f.DifferentiatedAccess = true },
	"access-logging": func(f *Facts) { f.AccessLogging = true },
	"revoke":         func(f *Facts) { f.RevokeOnTransfer = true },
	"periodic":       func(f *Facts) { f.PeriodicChecks = true },
	"viewing-room":   func(f *Facts) { f.ViewingRoomRestricted = true },
	"lock":           func(f *Facts) { f.LockedStorage = true },
}

// ParseFacts reads a comma-separated list of fact names: encryption,
// password, differentiated, access-logging, revoke, periodic, viewing-room,
// lock.
func ParseFacts(list string) (Facts, error) {
	var f Facts
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		set, ok := factNames[name]
		if !ok {
			return Facts{}, errs.Errorf("policy.ParseFacts", errs.Invalid, "unknown fact %q: want encryption, password, differentiated, access-logging, revoke, periodic, viewing-room or lock", name)
		}
		set(&f)
	}
	return f, nil
}
