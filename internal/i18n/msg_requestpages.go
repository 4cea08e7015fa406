package i18n

// The staff's pages of data-subject requests (web/page_requests*.go:
// list, intake, detail and its workflow), their notices, and the clock's
// alarm (internal/requests, Service.CheckDue).
func init() {
	add(map[string]Message{
		"alarm.kind.request_due":     {"열람등 요구 처리기한", "Request due"},
		"ui.alarm.request_due":       {"열람등 요구 처리기한", "Request due"},
		"alarm.msg.request_due_soon": {"열람등 요구 {receipt}의 처리기한({due}까지)이 다가옵니다", "Request {receipt} is due soon (by the end of {due})"},
		"alarm.msg.request_overdue":  {"열람등 요구 {receipt}의 처리기한({due}까지)이 지났습니다", "Request {receipt} is overdue (it was due by the end of {due})"},
		"requests.notice_none":       {"연기하거나 거절한 청구가 아니어서 연기·거절 통지서를 만들 수 없습니다", "The request is neither postponed nor refused: there is nothing to notify"},
		"requests.notice_kind":       {"{field}: 통지서 종류는 answer(열람 등 통지서) 또는 refusal(연기·거절 통지서)입니다", "{field}: a notice is answer or refusal"},
	})
}
