package i18n

// Health (internal/health): the states of a camera's recording
// ("camera.state.<ingest status>") and the findings of the scheduled device
// check (점검), which the 관리대장 entry of each check carries in Korean.
func init() {
	add(map[string]Message{
		"camera.state.connecting": {"연결 중", "connecting"},
		"camera.state.recording":  {"녹화 중", "recording"},
		"camera.state.down":       {"중단", "down"},
		"camera.state.unknown":    {"알 수 없음", "unknown"},

		"health.check.ok":              {"정상", "OK"},
		"health.check.problems":        {"이상: {findings}", "Problems: {findings}"},
		"health.check.still_kept":      {"정지화상 {id} 보관", "still {id} kept"},
		"health.finding.not_recording": {"녹화 중이 아닙니다(상태: {state})", "Not recording (status: {state})"},
		"health.finding.not_recording_error": {"녹화 중이 아닙니다(상태: {state}, 마지막 오류: {error})",
			"Not recording (status: {state}, last error: {error})"},
		"health.finding.alarm":        {"{kind}: {message}", "{kind}: {message}"},
		"health.finding.no_key_frame": {"정지화상: 점검할 키 프레임을 받지 못했습니다", "Still frame: no key frame received to check"},
		"health.finding.still_error":  {"정지화상: {error}", "Still frame: {error}"},
		"health.finding.still":        {"정지화상: {problem}", "Still frame: {problem}"},
		"health.still.black":          {"검은 화면(평균 밝기 {value})", "black picture (mean luma {value})"},
		"health.still.covered":        {"균일한 화면, 렌즈 가림 의심(밝기 편차 {value})", "uniform picture, lens covered? (luma deviation {value})"},
		"health.still.defocused":      {"세부가 적음, 초점 흐림 의심(라플라시안 분산 {value})", "little detail, defocused? (Laplacian variance {value})"},
		"health.finding.unwritable":   {"쓰기 불가: {error}", "Not writable: {error}"},
	})
}
