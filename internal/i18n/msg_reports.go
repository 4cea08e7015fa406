package i18n

// Messages of the monthly health report's route (internal/health
// ReportHandler).
func init() {
	add(map[string]Message{
		"report.month":     {"월은 YYYY-MM 형식으로 입력하십시오(예: 2026-03).", "Give the month as YYYY-MM (for example 2026-03)."},
		"report.format":    {"형식은 csv 또는 pdf여야 합니다.", "The format must be csv or pdf."},
		"report.not_begun": {"{month}의 보고서는 아직 만들 수 없습니다.", "There is no report for {month} yet."},
	})
}
