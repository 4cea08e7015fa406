package i18n

// Messages of export jobs (internal/export/job.go, web/exportjobs.go,
// `gwanje export create`) and the playback page's export dialog.
func init() {
	add(map[string]Message{
		"export.busy": {"이미 반출 작업 {max}건이 진행 중입니다. 끝난 뒤 다시 시도하십시오.",
			"{max} exports are already running: try again when one has finished."},
		"export.job.running": {"반출 패키지를 아직 만드는 중입니다.", "The evidence package is not made yet."},
		"export.job.gone": {"이 반출 작업에는 내려받을 패키지가 없습니다(상태: {state}).",
			"This export job has no package to download (state: {state})."},
		"export.job.unknown": {"그런 반출 작업이 없습니다.", "There is no such export job."},
	})
}
