package i18n

// Messages of the API's own error codes (internal/web).
func init() {
	add(map[string]Message{
		"request.json":     {"요청 본문이 올바른 JSON이 아닙니다.", "The request body is not valid JSON."},
		"request.id":       {"번호가 올바르지 않습니다.", "The number is not valid."},
		"range.invalid":    {"시작과 끝 시각을 입력하십시오. 끝은 시작보다 뒤여야 합니다.", "Enter a start and an end time; the end must come after the start."},
		"range.too_long":   {"한 번에 최대 {max}까지 열람할 수 있습니다.", "At most {max} can be viewed at once."},
		"purpose.category": {"열람 목적을 고르십시오.", "Choose the purpose of viewing."},
		"purpose.reason":   {"열람 사유를 입력하십시오(최대 {max}자).", "Enter the reason for viewing (at most {max} characters)."},
		"alarm.note":       {"확인 메모는 최대 {max}자입니다.", "The note may be at most {max} characters."},
		"hold.invalid":     {"보존 조치의 시작, 끝과 사유(최대 {max}자)를 입력하십시오.", "Enter the hold's start, end and reason (at most {max} characters)."},
		"hold.owned":       {"청구·제공 건에 딸린 보존 조치는 그 건이 끝날 때 해제됩니다.", "A hold owned by a request or provision is released when that closes."},
	})
}
