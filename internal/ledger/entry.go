// Package ledger is gwanje's 관리대장: an append-only, SHA-256 hash-chained
// record of every viewing, use, provision and destruction of footage, and of
// the logins, user and permission changes, configuration changes and device
// checks around them. Entries are written durably (group commit) before the
// action they record takes effect, periodically sealed by Ed25519-signed
// checkpoints whose key lives apart from the database, and checked by Verify,
// which names the first damaged entry. See docs/design/ledger.md.
package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Kind is what an entry records. The list is append-only: values are
// stored in the chain, so never reorder, reuse or remove them.
type Kind uint16

const (
	KindInvalid      Kind = iota // never stored
	LiveView                     // 실시간 열람: live footage was shown
	Playback                     // 재생 열람: recorded footage was played
	Export                       // 반출: footage was copied out to a file
	Provision                    // 제3자 제공: footage was given to a third party
	Use                          // 목적 외 이용: footage was used beyond the stated purposes
	Destruction                  // 파기: footage was destroyed
	RequestReceived              // 정보주체 열람등 요구 접수
	RequestDecided               // 정보주체 열람등 요구 결정
	UserChange                   // a user was created, changed or deactivated
	PermissionChange             // a grant was given, changed or removed
	RegistryChange               // a camera, site or policy registry change
	ConfigChange                 // a configuration change
	Login                        // a successful login
	Logout                       // a logout
	LoginFailed                  // a failed login (wrong password, locked, unknown user)
	DeviceCheck                  // a periodic camera/device check
	AccessRefused                // a footage request refused (network, scope, purpose)
	Hold                         // 보존 조치: a hold placed on footage or released
	SignOff                      // 관리책임자 확인: the manager's periodic sign-off of the 관리대장
	KeyRotation                  // 서명키 교체: the checkpoint signing key was replaced (docs/design/ledger.md)
	SubjectCopy                  // 사본 교부: a (masked) copy given to a data subject answering their 열람 request
	kindEnd                      // keep last
)

var kindInfo = [...]struct {
	name, label string
	cat         Category
}{
	KindInvalid:      {"invalid", "잘못된 항목", ""},
	LiveView:         {"live-view", "실시간 열람", CatView},
	Playback:         {"playback", "재생 열람", CatView},
	Export:           {"export", "반출", CatUse},
	Provision:        {"provision", "제3자 제공", CatProvide},
	Use:              {"use", "목적 외 이용", CatUse},
	Destruction:      {"destruction", "파기", CatDestroy},
	RequestReceived:  {"request-received", "열람등 요구 접수", ""},
	RequestDecided:   {"request-decided", "열람등 요구 처리", CatView},
	UserChange:       {"user-change", "사용자 변경", ""},
	PermissionChange: {"permission-change", "권한 변경", ""},
	RegistryChange:   {"registry-change", "등록정보 변경", ""},
	ConfigChange:     {"config-change", "설정 변경", ""},
	Login:            {"login", "로그인", ""},
	Logout:           {"logout", "로그아웃", ""},
	LoginFailed:      {"login-failed", "로그인 실패", ""},
	DeviceCheck:      {"device-check", "기기 점검", ""},
	AccessRefused:    {"access-refused", "접근 거부", ""},
	Hold:             {"hold", "보존 조치", ""},
	SignOff:          {"sign-off", "관리책임자 확인", ""},
	KeyRotation:      {"key-rotation", "서명키 교체", ""},
	SubjectCopy:      {"subject-copy", "사본 교부(정보주체 열람)", CatView},
}

// Category is the 구분 column of the official 관리대장: 이용, 제공, 열람 or 파기.
type Category string

// The four categories of the official 관리대장.
const (
	CatUse     Category = "이용"
	CatProvide Category = "제공"
	CatView    Category = "열람"
	CatDestroy Category = "파기"
)

// Kinds returns every valid kind in order.
func Kinds() []Kind {
	ks := make([]Kind, 0, kindEnd-1)
	for k := LiveView; k < kindEnd; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Valid reports whether k is a known kind other than KindInvalid.
func (k Kind) Valid() bool { return k > KindInvalid && k < kindEnd }

// String returns the stable English name used in the CLI ("playback").
func (k Kind) String() string {
	if int(k) < len(kindInfo) {
		return kindInfo[k].name
	}
	return fmt.Sprintf("kind(%d)", uint16(k))
}

// Label returns the Korean label ("재생 열람").
func (k Kind) Label() string {
	if int(k) < len(kindInfo) {
		return kindInfo[k].label
	}
	return k.String()
}

// Category returns the 관리대장 구분 of k, or "" for kinds that are kept in
// the chain but are not part of the official 관리대장 (logins, user changes...).
func (k Kind) Category() Category {
	if int(k) < len(kindInfo) {
		return kindInfo[k].cat
	}
	return ""
}

// Official reports whether k belongs in the official 관리대장 export.
func (k Kind) Official() bool { return k.Category() != "" }

// ParseKind parses an English kind name as returned by Kind.String.
func ParseKind(s string) (Kind, error) {
	for k := LiveView; k < kindEnd; k++ {
		if kindInfo[k].name == s {
			return k, nil
		}
	}
	return KindInvalid, errs.Errorf("ledger.ParseKind", errs.Invalid, "unknown ledger kind %q", s)
}

// Entry is one ledger row. Callers fill the descriptive fields; Append sets
// Seq, Time, Prev and Hash.
type Entry struct {
	Seq  uint64    // 1, 2, 3...: contiguous, assigned by Append
	Time time.Time // when the entry was appended (set by Append from the clock)
	Kind Kind

	Actor  string // user name of who acted ("" for the system)
	Role   string // the role under which they acted ("접근권한자")
	Client string // client address ("10.1.2.3")

	Site    string    // site id the object belongs to ("" when none)
	Cameras []string  // camera ids concerned
	From    time.Time // footage time range start (zero when none)
	To      time.Time // footage time range end (zero when none)
	Object  string    // 파일명/형태: file name and form, or the changed object ("user kim")

	PurposeCategory string // purpose category ("incident", "request", ...)
	Purpose         string // 목적/사유: purpose or reason, free text
	Party           string // 이용·제공받는 제3자/열람등 요구자: recipient or requester
	LegalBasis      string // 이용·제공 근거
	Form            string // 이용·제공 형태 ("열람", "사본 제공", "USB")
	Period          string // 기간 (how long the recipient may keep it)
	Detail          string // anything else (outcome, refusal reason, changed fields)
	// Ref is the document the action answers: a data-subject request's
	// receipt number ("2026-0007-K3QX") or a provision's official letter
	// number. Entries with a Ref use encoding v2; the others keep v1.
	Ref string

	Prev [32]byte // hash of the previous entry (zero for seq 1)
	Hash [32]byte // SHA-256 of the canonical encoding
}

// encodingV1 is the version byte of the canonical encoding. A new encoding
// gets a new byte; old entries keep theirs and verify under their own rules.
// encodingV2 is v1 followed by one more string, Ref; it is written only
// for entries with a Ref, so every entry without one encodes (and hashes)
// exactly as before v2 existed.
const (
	encodingV1 = 1
	encodingV2 = 2
)

// Fixed offsets of the canonical encoding v1, used by Verify to check the
// chain links without decoding the whole body.
const (
	offSeq  = 1
	offPrev = offSeq + 8
	offTime = offPrev + 32
	offKind = offTime + 8
	offVar  = offKind + 2
)

// Encode returns the canonical encoding v1 of e: the bytes whose SHA-256 is
// e.Hash. Layout: version u8, seq u64, prev [32], time unix-ns i64, kind u16
// (all big-endian), then the strings Site, Actor, Role, Client, the camera
// count and cameras, From and To (unix-ns i64, 0 for zero), Object,
// PurposeCategory, Purpose, Party, LegalBasis, Form, Period, Detail, each
// string as a uvarint length followed by its UTF-8 bytes. Encoding v2
// (version byte 2) appends Ref, a string as the others; it is used exactly
// when Ref is not empty.
func Encode(e *Entry) []byte {
	n := offVar + 16 + 4
	for _, s := range e.strings() {
		n += len(s) + binary.MaxVarintLen32
	}
	for _, c := range e.Cameras {
		n += len(c) + binary.MaxVarintLen32
	}
	n += len(e.Ref) + binary.MaxVarintLen32
	b := make([]byte, 0, n)
	if e.Ref == "" {
		b = append(b, encodingV1)
	} else {
		b = append(b, encodingV2)
	}
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = append(b, e.Prev[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(e.Time)))
	b = binary.BigEndian.AppendUint16(b, uint16(e.Kind))
	b = appendString(b, e.Site)
	b = appendString(b, e.Actor)
	b = appendString(b, e.Role)
	b = appendString(b, e.Client)
	b = binary.AppendUvarint(b, uint64(len(e.Cameras)))
	for _, c := range e.Cameras {
		b = appendString(b, c)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(e.From)))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(e.To)))
	for _, s := range []string{e.Object, e.PurposeCategory, e.Purpose, e.Party, e.LegalBasis, e.Form, e.Period, e.Detail} {
		b = appendString(b, s)
	}
	if e.Ref != "" {
		b = appendString(b, e.Ref)
	}
	return b
}

func (e *Entry) strings() []string {
	return []string{e.Actor, e.Role, e.Client, e.Site, e.Object, e.PurposeCategory, e.Purpose, e.Party, e.LegalBasis, e.Form, e.Period, e.Detail}
}

// Decode parses a canonical encoding into an Entry; Hash is set to the
// SHA-256 of b.
func Decode(b []byte) (Entry, error) {
	const op = "ledger.Decode"
	var e Entry
	if len(b) < offVar {
		return e, errs.Errorf(op, errs.Corrupt, "entry body is %d bytes, shorter than the %d-byte header", len(b), offVar)
	}
	if b[0] != encodingV1 && b[0] != encodingV2 {
		return e, errs.Errorf(op, errs.Corrupt, "entry body has unknown encoding version %d", b[0])
	}
	e.Seq = binary.BigEndian.Uint64(b[offSeq:])
	copy(e.Prev[:], b[offPrev:offPrev+32])
	e.Time = fromNano(int64(binary.BigEndian.Uint64(b[offTime:])))
	e.Kind = Kind(binary.BigEndian.Uint16(b[offKind:]))
	d := decoder{b: b, off: offVar}
	e.Site = d.str()
	e.Actor = d.str()
	e.Role = d.str()
	e.Client = d.str()
	nc := d.uvarint()
	if d.err == nil && nc > uint64(len(b)) {
		d.err = fmt.Errorf("camera count %d exceeds body length", nc)
	}
	for i := uint64(0); i < nc && d.err == nil; i++ {
		e.Cameras = append(e.Cameras, d.str())
	}
	e.From = fromNano(d.i64())
	e.To = fromNano(d.i64())
	for _, p := range []*string{&e.Object, &e.PurposeCategory, &e.Purpose, &e.Party, &e.LegalBasis, &e.Form, &e.Period, &e.Detail} {
		*p = d.str()
	}
	if b[0] == encodingV2 {
		if e.Ref = d.str(); d.err == nil && e.Ref == "" {
			d.err = fmt.Errorf("encoding v2 with an empty reference (v1 is the encoding without one)")
		}
	}
	if d.err == nil && d.off != len(b) {
		d.err = fmt.Errorf("%d trailing bytes", len(b)-d.off)
	}
	if d.err != nil {
		return e, errs.Errorf(op, errs.Corrupt, "entry seq %d: %v", e.Seq, d.err)
	}
	e.Hash = sha256.Sum256(b)
	return e, nil
}

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = fmt.Errorf("bad length at byte %d", d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("string of %d bytes at byte %d overruns the body", n, d.off)
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

func (d *decoder) i64() int64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.err = fmt.Errorf("truncated time at byte %d", d.off)
		return 0
	}
	v := int64(binary.BigEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// validate checks what a caller must fill before Append.
func (e *Entry) validate() error {
	const op = "ledger.Append"
	if !e.Kind.Valid() {
		return errs.Errorf(op, errs.Invalid, "entry kind %d is not a known kind", e.Kind)
	}
	switch e.Kind {
	case LiveView, Playback, Export, Provision, Use:
		if e.Purpose == "" && e.PurposeCategory == "" {
			return errs.Errorf(op, errs.Invalid, "a %s entry needs a purpose", e.Kind)
		}
	}
	if !e.From.IsZero() && !e.To.IsZero() && e.To.Before(e.From) {
		return errs.Errorf(op, errs.Invalid, "entry time range ends (%s) before it starts (%s)", e.To, e.From)
	}
	return nil
}
