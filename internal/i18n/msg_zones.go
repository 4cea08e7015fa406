package i18n

// Messages of privacy zones in live view, playback and exports
// (internal/web/zones.go).
func init() {
	add(map[string]Message{
		"zones.ffmpeg": {"{camera} 카메라의 개인정보 보호 구역은 이 역할에게 가려서만 보여 줄 수 있는데, 가리는 데 필요한 ffmpeg가 없습니다. 데비안 패키지 ffmpeg를 설치하십시오.",
			"Camera {camera}'s privacy zones can only be shown masked to this role, and ffmpeg, needed to mask them, is missing: install the Debian package ffmpeg."},
		"zones.role": {"{camera} 카메라를 보는 동안 권한이 바뀌었습니다. 다시 요청하십시오.",
			"Your rights changed while camera {camera}'s view was granted: ask again."},
		"zones.export": {"{camera} 카메라에는 개인정보 보호 구역이 있어, 관리책임자가 아니면 마스킹 사본으로만 반출할 수 있습니다.",
			"Camera {camera} has privacy zones: anyone but a 관리책임자 (manager) may copy its footage only as a masked export."},
	})
}
