package i18n

// Field labels: the words a message puts for {field}, so that an error
// names the box the user typed into in the user's language instead of the
// field's key. T looks a label up as "field.<area>.<key>", area being the
// first part of the message's code (requests.missing → requests), then as
// "field.<key>"; a key without a label is printed as it is, and
// TestEveryFieldHasALabel fails on it.
func init() {
	add(map[string]Message{
		// A data subject's request (public form and staff pages).
		"field.requests.types":              {"청구 내용", "what is requested"},
		"field.requests.ground":             {"사유 구분", "ground"},
		"field.requests.outcome":            {"결정", "decision"},
		"field.requests.note":               {"비고", "note"},
		"field.requests.cameras":            {"카메라", "cameras"},
		"field.requests.from":               {"기록기간 시작", "start of the recording period"},
		"field.requests.to":                 {"기록기간 끝", "end of the recording period"},
		"field.requests.reason":             {"사유", "reason"},
		"field.requests.date":               {"연기한 기한", "postponed date"},
		"field.requests.answer":             {"답변", "answer"},
		"field.requests.when":               {"열람 일시", "date and time of the viewing"},
		"field.requests.where":              {"열람 장소", "place of the viewing"},
		"field.requests.kind":               {"통지서 종류", "kind of notice"},
		"field.requests.method":             {"본인 확인 방법", "how the identity was checked"},
		"field.requests.proxy":              {"대리인 확인 서류", "the representative's documents"},
		"field.requests.place":              {"촬영 장소", "place filmed"},
		"field.requests.purpose":            {"청구 목적", "purpose of the request"},
		"field.requests.minutes":            {"열람 시간(분)", "viewing time (minutes)"},
		"field.requests.requester.name":     {"청구인 성명", "requester's name"},
		"field.requests.requester.phone":    {"청구인 전화번호", "requester's phone"},
		"field.requests.requester.birth":    {"청구인 생년월일", "requester's date of birth"},
		"field.requests.requester.address":  {"청구인 주소", "requester's address"},
		"field.requests.requester.relation": {"정보주체와의 관계", "relation to the data subject"},
		"field.requests.subject.name":       {"정보주체 성명", "data subject's name"},
		"field.requests.subject.phone":      {"정보주체 전화번호", "data subject's phone"},
		"field.requests.subject.birth":      {"정보주체 생년월일", "data subject's date of birth"},
		"field.requests.subject.address":    {"정보주체 주소", "data subject's address"},
		"field.requests.subject.relation":   {"정보주체와의 관계", "relation to the data subject"},

		// Third-party provision and use for another purpose.
		"field.provision.kind":      {"구분(제3자 제공·목적 외 이용)", "kind (provision or use)"},
		"field.provision.basis":     {"법적 근거", "legal basis"},
		"field.provision.statute":   {"근거 법령", "statute"},
		"field.provision.form":      {"제공 형태", "form"},
		"field.provision.recipient": {"제공받는 자", "recipient"},
		"field.provision.letter":    {"공문 번호", "letter number"},
		"field.provision.purpose":   {"이용·제공 목적", "purpose"},
		"field.provision.period":    {"이용 기간", "period of use"},
		"field.provision.cameras":   {"카메라", "cameras"},
		"field.provision.range":     {"영상 기간", "period of the footage"},
		"field.provision.reason":    {"사유", "reason"},

		// An evidence package.
		"field.export.recipient":   {"받는 사람", "recipient"},
		"field.export.legal_basis": {"법적 근거", "legal basis"},
		"field.export.letter":      {"공문 번호", "letter number"},
		"field.export.form":        {"형태", "form"},
		"field.export.period":      {"이용 기간", "period of use"},

		// Masking: privacy zones, regions and the watermark.
		"field.mask.recipient": {"받는 사람", "recipient"},
		"field.mask.date":      {"날짜", "date"},
		"field.mask.receipt":   {"접수번호", "receipt number"},
		"field.mask.name":      {"이름", "name"},
		"field.mask.points":    {"꼭짓점", "points"},
		"field.mask.rect":      {"사각형", "rectangle"},
		"field.mask.keyframes": {"키프레임", "keyframes"},
		"field.mask.from":      {"시작", "start"},
		"field.mask.to":        {"끝", "end"},
	})
}
