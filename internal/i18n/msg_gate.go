package i18n

// Messages of the footage gate (internal/access/gate.go): the purpose
// vocabulary and the gate's refusals.
func init() {
	add(map[string]Message{
		"purpose.facility":   {"시설안전", "Facility safety"},
		"purpose.crime":      {"범죄예방", "Crime prevention"},
		"purpose.complaint":  {"민원확인", "Complaint check"},
		"purpose.incident":   {"사건·사고 확인", "Incident check"},
		"purpose.monitoring": {"실시간 관제", "Monitoring"},
		"purpose.check":      {"시스템점검", "System check"},
		"purpose.subject":    {"정보주체 열람", "Data subject viewing"},
		"purpose.provision":  {"제3자 제공", "Provision to a third party"},
		"purpose.other":      {"기타", "Other"},

		"footage.none":          {"선택한 기간에 녹화된 영상이 없습니다. 기간을 바꾸어 다시 조회하십시오.", "No footage was recorded in the chosen period. Choose another period."},
		"footage.not_recording": {"이 카메라는 지금 녹화하고 있지 않아 실시간 영상을 볼 수 없습니다.", "This camera is not recording now, so there is no live picture."},
		"footage.network":       {"이 장소에서는 영상을 열람할 수 없습니다. 지정된 열람 장소의 단말에서 접속하십시오.", "Footage cannot be viewed from here. Connect from a terminal in the designated viewing room."},
		"footage.revoked":       {"열람 권한이 회수되어 영상이 중단되었습니다.", "The right to view was withdrawn; the footage has stopped."},
	})
}
