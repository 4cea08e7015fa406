package i18n

// Messages of the error codes every kind falls back to (errs.Kind.Code).
// Codes of their own live in the area that raises them.
func init() {
	add(map[string]Message{
		"request.invalid": {"요청이 올바르지 않습니다.", "The request is not valid."},
		"not_found":       {"찾을 수 없습니다.", "Not found."},
		"exists":          {"이미 있습니다.", "It already exists."},
		"forbidden":       {"권한이 없습니다.", "You do not have permission to do this."},
		"unauthorized":    {"로그인이 필요합니다.", "Please sign in."},
		"unavailable":     {"지금은 처리할 수 없습니다. 잠시 후 다시 시도하십시오.", "This cannot be done right now. Try again shortly."},
		"conflict":        {"다른 변경과 충돌했습니다. 새로 고친 뒤 다시 시도하십시오.", "It changed meanwhile. Reload and try again."},
		"too_large":       {"입력이 너무 큽니다.", "The input is too large."},
		"held":            {"보존 조치 중인 영상입니다.", "The footage is under a hold."},
		"canceled":        {"취소되었습니다.", "Cancelled."},
		"internal":        {"서버 내부 오류입니다. 관리자에게 문의하십시오.", "Internal server error. Please contact the administrator."},
	})
}
