package health

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	ledgerreport "github.com/gwanje/gwanje/internal/ledger/report"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// LedgerQuery is what the report needs from the ledger; *ledger.Ledger
// implements it.
type LedgerQuery interface {
	Query(ctx context.Context, f ledger.Filter) ([]ledger.Entry, error)
}

// ReportSources are where the monthly report's facts come from.
type ReportSources struct {
	Cameras  []string      // every camera of the registry, in order
	Ledger   LedgerQuery   // DeviceCheck entries
	Segments Segments      // uptime and gaps
	Alarms   AlarmHistory  // the alarm store; nil: no alarms
	MinGap   time.Duration // shortest gap reported; default 1 s
	// Visible, when set, says whether the reader may see a subject (a
	// camera id, or a volume or "system"): the report then holds only
	// the cameras, gaps, checks and alarms of what the reader may see,
	// so a reader of one site learns nothing of another's.
	Visible func(subject string) bool
}

// visible applies src.Visible (everything when unset).
func (src ReportSources) visible(subject string) bool {
	return src.Visible == nil || src.Visible(subject)
}

// entryVisible: a check is shown when every camera it names is visible
// (a check naming none is about the system).
func (src ReportSources) entryVisible(e ledger.Entry) bool {
	for _, c := range e.Cameras {
		if !src.visible(c) {
			return false
		}
	}
	return src.Visible == nil || e.Site == "" || len(e.Cameras) > 0 || src.Visible(siteSubject(e.Site))
}

// siteSubject is the subject Visible is asked about for a check that
// names a site but no camera.
func siteSubject(site string) string { return "site:" + site }

// AlarmHistory is what the report needs of the alarm store (alarm.Store).
type AlarmHistory interface {
	Between(ctx context.Context, from, to time.Time) ([]alarm.Alarm, error)
}

// CameraUptime is one camera's recording over the month.
type CameraUptime struct {
	Camera   string
	Recorded time.Duration // footage in the index within the month
	Period   time.Duration // the month (up to now, for the current month)
	Gaps     int
	GapTime  time.Duration
}

// Uptime is Recorded / Period, from 0 to 1.
func (u CameraUptime) Uptime() float64 {
	if u.Period <= 0 {
		return 0
	}
	return float64(u.Recorded) / float64(u.Period)
}

// Report is the monthly health report: checks, uptime per camera, gaps
// and alarms, for one calendar month in the institution's time zone.
type Report struct {
	Month    string // "2026-03"
	Loc      *time.Location
	From, To time.Time
	Made     time.Time
	Uptime   []CameraUptime
	Gaps     []Gap
	Checks   []ledger.Entry
	Alarms   []alarm.Alarm
}

// MonthlyReport gathers the report of month (year, month) in loc, as of
// now (a month not over yet is reported up to now).
func MonthlyReport(ctx context.Context, src ReportSources, year int, month time.Month, loc *time.Location, now time.Time) (*Report, error) {
	const op = "health.MonthlyReport"
	if loc == nil {
		return nil, errs.E(op, errs.Invalid, "no time zone")
	}
	if month < time.January || month > time.December {
		return nil, errs.Errorf(op, errs.Invalid, "month %d: want 1 to 12", month)
	}
	from := time.Date(year, month, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	if !now.After(from) {
		return nil, errs.Errorf(op, errs.Invalid, "%04d-%02d has not begun", year, month)
	}
	end := to
	if now.Before(end) {
		end = now
	}
	minGap := src.MinGap
	if minGap <= 0 {
		minGap = time.Second
	}
	r := &Report{Month: fmt.Sprintf("%04d-%02d", year, month), Loc: loc, From: from, To: to, Made: now}
	// The alarms of the month, and of a minute either side for the causes
	// of gaps at its edges.
	var near []alarm.Alarm
	if src.Alarms != nil {
		var err error
		if near, err = src.Alarms.Between(ctx, from.Add(-time.Minute), to.Add(time.Minute)); err != nil {
			return nil, errs.E(op, err)
		}
		for _, a := range overlapping(near, from, to) {
			if src.visible(a.Subject) {
				r.Alarms = append(r.Alarms, a)
			}
		}
	}
	if src.Segments != nil {
		a, b := media.Time90k(from), media.Time90k(end)
		for _, cam := range src.Cameras {
			if !src.visible(cam) {
				continue
			}
			segs, err := src.Segments.Segments(ctx, cam, a, b)
			if err != nil {
				return nil, errs.E(op, err)
			}
			u := CameraUptime{Camera: cam, Period: end.Sub(from)}
			var covered int64
			last := a
			for _, s := range segs {
				s0, s1 := max(s.Start, last), min(s.End, b)
				if s1 > s0 {
					covered += s1 - s0
				}
				last = max(last, min(s.End, b))
			}
			u.Recorded = media.Duration90k(covered)
			// Gaps inside the month, plus a camera silent at either end.
			bounded := append([]store.Segment{{Start: a, End: a}}, segs...)
			bounded = append(bounded, store.Segment{Start: b, End: b})
			for _, g := range FindGaps(cam, bounded, minGap) {
				g.Cause = gapCause(near, cam, g)
				r.Gaps = append(r.Gaps, g)
				u.Gaps++
				u.GapTime += g.End.Sub(g.Start)
			}
			r.Uptime = append(r.Uptime, u)
		}
	}
	if src.Ledger != nil {
		es, err := src.Ledger.Query(ctx, ledger.Filter{From: from, To: to, Kinds: []ledger.Kind{ledger.DeviceCheck}})
		if err != nil {
			return nil, errs.E(op, err)
		}
		for _, e := range es {
			if src.entryVisible(e) {
				r.Checks = append(r.Checks, e)
			}
		}
	}
	return r, nil
}

// overlapping returns the alarms of as active at some time in [from, to)
// (an event: whose period overlaps it).
func overlapping(as []alarm.Alarm, from, to time.Time) []alarm.Alarm {
	var out []alarm.Alarm
	for _, a := range as {
		start, end := a.Raised, a.Cleared
		if !a.From.IsZero() {
			start, end = a.From, a.To
		}
		if start.Before(to) && (end.IsZero() || !end.Before(from)) {
			out = append(out, a)
		}
	}
	return out
}

// gapCause names the outage alarm of cam that covers the gap's start, if
// the store has one, in Korean (the report's language).
func gapCause(as []alarm.Alarm, cam string, g Gap) string {
	for _, a := range overlapping(as, g.Start.Add(-time.Minute), g.End) {
		if a.Subject != cam {
			continue
		}
		switch a.Kind {
		case alarm.CameraDown, alarm.CameraStalled, alarm.StorageWriteErrors:
			return a.Kind.Name(i18n.Ko) + ": " + a.Text(i18n.Ko)
		}
	}
	for _, a := range overlapping(as, g.Start.Add(-time.Minute), g.End.Add(time.Minute)) {
		if a.Subject == cam && a.Kind == alarm.Gap && a.From.Equal(g.Start) {
			return a.Text(i18n.Ko)
		}
	}
	return ""
}

func (r *Report) t(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(r.Loc).Format("2006-01-02 15:04:05")
}

// WriteCSV writes the report as one CSV table (UTF-8 with a byte order
// mark so spreadsheet programs read the Korean correctly): 구분 (section),
// 대상 (camera or device), 시작, 종료, 값 (value), 내용 (detail).
func (r *Report) WriteCSV(w io.Writer) error {
	const op = "health.Report.WriteCSV"
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return errs.E(op, errs.IO, err)
	}
	cw := csv.NewWriter(w)
	rows := [][]string{{"구분", "대상", "시작", "종료", "값", "내용"}}
	for _, u := range r.Uptime {
		rows = append(rows, []string{"가동률", u.Camera, r.t(r.From), r.t(r.From.Add(u.Period)),
			strconv.FormatFloat(100*u.Uptime(), 'f', 3, 64) + "%",
			fmt.Sprintf("녹화 %s, 공백 %d건 %s", u.Recorded.Round(time.Second), u.Gaps, u.GapTime.Round(time.Second))})
	}
	for _, g := range r.Gaps {
		rows = append(rows, []string{"녹화 공백", g.Camera, r.t(g.Start), r.t(g.End), g.End.Sub(g.Start).Round(time.Second).String(), g.Cause})
	}
	for _, e := range r.Checks {
		kind, res := "점검", "정상"
		if strings.HasPrefix(e.Detail, "이상") {
			res = "이상"
		}
		if e.Actor != "" {
			// A person's entry: an alarm acknowledgement (web.AckPurpose).
			kind, res = "점검("+e.Purpose+")", e.Actor
		}
		rows = append(rows, []string{kind, e.Object, r.t(e.Time), "", res, e.Detail})
	}
	for _, a := range r.Alarms {
		v := string(a.Severity)
		if a.Acked() {
			v += ", 확인 " + a.AckedBy + " " + r.t(a.AckedAt)
		}
		start, end := a.Raised, a.Cleared
		if !a.From.IsZero() {
			start, end = a.From, a.To
		}
		rows = append(rows, []string{"경보 " + a.Kind.Name(i18n.Ko), a.Subject, r.t(start), r.t(end), v, a.Text(i18n.Ko)})
	}
	// Notes, messages and names can be typed by people: no cell may
	// become a spreadsheet formula.
	for _, row := range rows[1:] {
		for i := range row {
			row[i] = ledgerreport.CSVCell(row[i])
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// FontPath is the NanumGothic font the PDF is set in (Debian fonts-nanum).
const FontPath = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"

// WritePDF writes the report as an A4 PDF set in NanumGothic.
func (r *Report) WritePDF(w io.Writer) error {
	const op = "health.Report.WritePDF"
	if _, err := os.Stat(FontPath); err != nil {
		return errs.Errorf(op, errs.Unavailable, "font %s is missing: install the Debian package fonts-nanum", FontPath)
	}
	p := fpdf.New("P", "mm", "A4", filepath.Dir(FontPath))
	p.AddUTF8Font("nanum", "", filepath.Base(FontPath))
	p.SetMargins(15, 15, 15)
	p.SetAutoPageBreak(true, 15)
	p.AliasNbPages("")
	p.SetFooterFunc(func() {
		p.SetY(-12)
		p.SetFont("nanum", "", 8)
		p.CellFormat(0, 5, fmt.Sprintf("%d / {nb}", p.PageNo()), "", 0, "C", false, 0, "")
	})
	p.AddPage()
	p.SetFont("nanum", "", 16)
	p.CellFormat(0, 10, "영상정보처리기기 월간 점검 보고서 "+r.Month, "", 1, "L", false, 0, "")
	p.SetFont("nanum", "", 9)
	p.CellFormat(0, 6, fmt.Sprintf("기간 %s ~ %s (%s), 작성 %s", r.t(r.From), r.t(r.To), r.Loc, r.t(r.Made)), "", 1, "L", false, 0, "")

	section := func(title string) {
		p.Ln(3)
		p.SetFont("nanum", "", 12)
		p.CellFormat(0, 8, title, "", 1, "L", false, 0, "")
		p.SetFont("nanum", "", 8)
	}
	table := func(widths []float64, head []string, rows [][]string) {
		p.SetFillColor(230, 230, 230)
		for i, h := range head {
			p.CellFormat(widths[i], 6, h, "1", 0, "C", true, 0, "")
		}
		p.Ln(-1)
		for _, row := range rows {
			for i, c := range row {
				// Cells are cut to fit one line; the CSV has the full text.
				for len(c) > 0 && p.GetStringWidth(c) > widths[i]-2 {
					rs := []rune(c)
					c = string(rs[:len(rs)-1])
				}
				p.CellFormat(widths[i], 5.5, c, "1", 0, "L", false, 0, "")
			}
			p.Ln(-1)
		}
		if len(rows) == 0 {
			p.CellFormat(0, 6, "없음", "", 1, "L", false, 0, "")
		}
	}

	section("1. 카메라별 가동률")
	var rows [][]string
	for _, u := range r.Uptime {
		rows = append(rows, []string{u.Camera, fmt.Sprintf("%.3f%%", 100*u.Uptime()), u.Recorded.Round(time.Second).String(),
			strconv.Itoa(u.Gaps), u.GapTime.Round(time.Second).String()})
	}
	table([]float64{40, 30, 40, 20, 50}, []string{"카메라", "가동률", "녹화 시간", "공백", "공백 시간"}, rows)

	section("2. 녹화 공백")
	rows = nil
	for _, g := range r.Gaps {
		rows = append(rows, []string{g.Camera, r.t(g.Start), r.t(g.End), g.End.Sub(g.Start).Round(time.Second).String(), g.Cause})
	}
	table([]float64{25, 32, 32, 20, 71}, []string{"카메라", "시작", "종료", "길이", "원인"}, rows)

	section("3. 정기 점검 기록 (관리대장)")
	rows = nil
	for _, e := range r.Checks {
		rows = append(rows, []string{strconv.FormatUint(e.Seq, 10), r.t(e.Time), e.Object, e.Detail})
	}
	table([]float64{15, 35, 30, 100}, []string{"순번", "일시", "대상", "결과"}, rows)

	section("4. 경보")
	rows = nil
	for _, a := range r.Alarms {
		ack := ""
		if a.Acked() {
			ack = a.AckedBy + " " + r.t(a.AckedAt)
		}
		start := a.Raised
		if !a.From.IsZero() {
			start = a.From
		}
		rows = append(rows, []string{a.Kind.Name(i18n.Ko), a.Subject, r.t(start), r.t(a.Cleared), ack, a.Text(i18n.Ko)})
	}
	table([]float64{28, 20, 30, 30, 30, 42}, []string{"종류", "대상", "발생", "해제", "확인", "내용"}, rows)

	if err := p.Output(w); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}
