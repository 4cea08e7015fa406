package i18n

// Messages of the administrative pages and their API (internal/web:
// ledgerbook.go, registryadmin.go, policyadmin.go and the page files of
// the 관리대장, users, holds, alarms, health, registry and policy).
func init() {
	// Error codes.
	add(map[string]Message{
		"date.invalid":       {"날짜 {value}이(가) 올바르지 않습니다. YYYY-MM-DD 형식으로 입력하십시오.", "The date {value} is not valid; enter it as YYYY-MM-DD."},
		"date.order":         {"끝 날짜는 시작 날짜와 같거나 뒤여야 합니다.", "The end date must be on or after the start date."},
		"request.page":       {"쪽 번호가 올바르지 않습니다.", "The page number is not valid."},
		"request.per":        {"한 쪽에 최대 {max}건까지 볼 수 있습니다.", "At most {max} rows can be shown per page."},
		"ledger.kind":        {"관리대장 항목 종류 {value}을(를) 알 수 없습니다.", "Unknown kind of ledger entry: {value}."},
		"ledger.format":      {"내려받기 형식은 CSV, XLSX, PDF 중 하나입니다.", "The download format is CSV, XLSX or PDF."},
		"ledger.font":        {"PDF를 만들 한글 글꼴이 서버에 없습니다. 관리자에게 fonts-nanum 설치를 요청하십시오.", "The server has no Korean font for PDF; ask the administrator to install fonts-nanum."},
		"ledger.verify":      {"관리대장 무결성을 검증하지 못했습니다. 잠시 후 다시 시도하십시오.", "The ledger could not be verified. Try again shortly."},
		"signoff.note":       {"확인 의견은 최대 {max}자입니다.", "The sign-off note may be at most {max} characters."},
		"signoff.future":     {"아직 시작되지 않은 기간은 확인할 수 없습니다.", "A period that has not begun cannot be signed off."},
		"signoff.forbidden":  {"관리대장 확인은 해당 장소의 관리책임자만 할 수 있습니다.", "Only the site's 관리책임자 (manager) may sign off the ledger."},
		"registry.none":      {"등록정보가 없습니다.", "There is no registry."},
		"registry.too_large": {"등록정보 파일은 최대 {max}입니다.", "The registry file may be at most {max}."},
		"registry.problems":  {"등록정보 파일에 문제 {count}건이 있습니다.\n{problems}", "The registry file has {count} problem(s).\n{problems}"},
		"registry.whole":     {"등록정보 가져오기와 방침 공고는 모든 장소 권한이 있는 관리자만 할 수 있습니다.", "Importing the registry and publishing the policy need a grant for every site."},
		"registry.no_path":   {"서버 설정에 등록정보 파일이 지정되어 있지 않습니다.", "The server configuration names no registry file."},
		"registry.changed":   {"미리보기 뒤에 등록정보 파일이 바뀌었습니다. 다시 미리보기 하십시오.", "The registry file changed since the preview. Preview again."},
		"registry.write":     {"등록정보 파일을 쓰지 못했습니다. 관리자에게 문의하십시오.", "The registry file could not be written. Contact the administrator."},
		"policy.notice":      {"시행일자 {effective}은(는) 공고일자 {announced}로부터 {days}일 공고 기간 안입니다. {earliest} 이후로 정하거나 즉시 시행 사유를 적으십시오.", "The effective date {effective} is inside the {days}-day notice period after the announcement {announced}; choose {earliest} or later, or state the reason for immediate effect."},
		"policy.order":       {"시행일자 {effective}은(는) 이전 판의 시행일자보다 뒤여야 합니다.", "The effective date {effective} must come after the previous version's."},
		"policy.unchanged":   {"지난 판과 달라진 내용이 없습니다.", "Nothing changed since the last version."},
		"policy.invalid":     {"방침을 공고할 수 없습니다. 등록정보를 확인하십시오.", "The policy cannot be published; check the registry."},
		"policy.format":      {"형식은 html, md, pdf 중 하나입니다.", "The format is html, md or pdf."},
		"policy.version":     {"방침 제{value}판이 없습니다.", "There is no policy version {value}."},
		"site.unknown":       {"장소 {value}이(가) 없습니다.", "There is no site {value}."},
	})
	// Ledger kinds, as pages name them (the Korean is ledger.Kind.Label).
	add(map[string]Message{
		"ledger.kind.live-view":         {"실시간 열람", "Live view"},
		"ledger.kind.playback":          {"재생 열람", "Playback"},
		"ledger.kind.export":            {"반출", "Export"},
		"ledger.kind.provision":         {"제3자 제공", "Provision to a third party"},
		"ledger.kind.use":               {"목적 외 이용", "Use beyond purpose"},
		"ledger.kind.destruction":       {"파기", "Destruction"},
		"ledger.kind.request-received":  {"열람등 요구 접수", "Request received"},
		"ledger.kind.request-decided":   {"열람등 요구 처리", "Request decided"},
		"ledger.kind.user-change":       {"사용자 변경", "User change"},
		"ledger.kind.permission-change": {"권한 변경", "Permission change"},
		"ledger.kind.registry-change":   {"등록정보 변경", "Registry change"},
		"ledger.kind.config-change":     {"설정 변경", "Configuration change"},
		"ledger.kind.login":             {"로그인", "Login"},
		"ledger.kind.logout":            {"로그아웃", "Logout"},
		"ledger.kind.login-failed":      {"로그인 실패", "Failed login"},
		"ledger.kind.device-check":      {"기기 점검", "Device check"},
		"ledger.kind.access-refused":    {"접근 거부", "Access refused"},
		"ledger.kind.hold":              {"보존 조치", "Hold"},
		"ledger.kind.sign-off":          {"관리책임자 확인", "Manager's sign-off"},
		"ledger.damage.edited":          {"변조", "edited"},
		"ledger.damage.missing":         {"삭제", "missing"},
		"ledger.damage.inserted":        {"삽입", "inserted"},
		"ledger.damage.reordered":       {"순서 변경", "reordered"},
		"ledger.damage.truncated":       {"끝부분 삭제", "truncated"},
		"ledger.damage.bad-checkpoint":  {"서명 불일치", "bad checkpoint"},
	})
}
