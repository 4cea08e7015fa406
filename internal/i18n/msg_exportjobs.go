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

		// The playback page's export dialog.
		"ui.export.open": {"반출…", "Export…"},
		"ui.export.select_help": {"반출할 구간은 Shift 키를 누른 채 타임라인이나 확대 막대를 끌어 고릅니다. 고르지 않으면 보고 있는 시각부터 10분입니다.",
			"Choose the range to export by dragging on a timeline or the zoom bar with Shift held; without a selection it is the ten minutes from the time shown."},
		"ui.export.title": {"영상 반출(증거 패키지)", "Export footage (evidence package)"},
		"ui.export.explain": {"반출은 관리대장에 기록됩니다. 패키지는 서명된 ZIP이며, 받는 쪽에서 gwanje 없이 검증할 수 있습니다.",
			"The export is recorded in the ledger. The package is a signed ZIP the recipient can check without gwanje."},
		"ui.export.range":       {"구간", "Range"},
		"ui.export.recipient":   {"제공받는 자", "Recipient"},
		"ui.export.letter":      {"공문 번호(있으면)", "Official letter number (if any)"},
		"ui.export.legal_basis": {"근거(있으면)", "Legal basis (if any)"},
		"ui.export.period":      {"이용 기간(있으면)", "Period of use (if any)"},
		"ui.export.start":       {"반출 시작", "Start export"},
		"ui.export.cancel":      {"반출 취소", "Cancel export"},
		"ui.export.close":       {"닫기", "Close"},

		"ui.js.export.selection": {"선택한 구간: {from} – {to} (Shift를 누른 채 끌어 다시 고릅니다)",
			"Selected: {from} – {to} (drag with Shift held to choose again)"},
		"ui.js.export.no_range": {"반출할 구간을 먼저 고르십시오: Shift를 누른 채 타임라인을 끌거나, 영상을 재생하십시오.",
			"Choose a range first: drag on a timeline with Shift held, or play the footage."},
		"ui.js.export.running":      {"반출 중 {percent}%", "Exporting: {percent}%"},
		"ui.js.export.running_left": {"반출 중 {percent}% · 약 {left} 남음", "Exporting: {percent}%, about {left} left"},
		"ui.js.export.seconds":      {"{n}초", "{n} s"},
		"ui.js.export.minutes":      {"{n}분", "{n} min"},
		"ui.js.export.cancelling":   {"반출을 취소하는 중입니다…", "Cancelling the export…"},
		"ui.js.export.cancelled": {"반출을 취소했습니다. 만들던 파일은 지웠고, 취소 사실은 관리대장에 기록되었습니다.",
			"The export was cancelled: what it had written is removed, and the ledger records the cancellation."},
		"ui.js.export.done": {"패키지를 만들었습니다(관리대장 {seq}번). 서버에서는 {until}에 지워지니 그 전에 내려받으십시오.",
			"The package is made (ledger row {seq}). The server removes it at {until}: download it before then."},
		"ui.js.export.download": {"내려받기: {file}", "Download {file}"},
	})
}
