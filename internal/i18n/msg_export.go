package i18n

// Messages of evidence export (internal/export).
func init() {
	add(map[string]Message{
		"export.none": {"{cameras} 카메라에는 {from}부터 {to}까지 녹화된 영상이 없어 반출할 수 없습니다.",
			"Camera(s) {cameras} have no footage from {from} to {to}: nothing to export."},
		"export.cameras":   {"반출할 카메라를 하나 이상 지정해야 합니다.", "Name at least one camera to export."},
		"export.range":     {"반출 기간의 끝은 시작보다 뒤여야 합니다.", "The end of the export range must be after its start."},
		"export.recipient": {"제공받는 자를 적어야 합니다.", "Name the recipient."},
		"export.field":     {"{field} 항목은 줄바꿈 없이 {max}자 이내여야 합니다.", "{field} must have at most {max} characters and no line breaks."},
	})
}
