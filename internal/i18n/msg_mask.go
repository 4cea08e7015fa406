package i18n

// Messages of masking (internal/mask, masked exports).
func init() {
	add(map[string]Message{
		"mask.size": {"마스킹 설정이 너무 큽니다({max} MiB 이하).", "The masking spec is too large (at most {max} MiB)."},
		"mask.json": {"마스킹 설정을 읽을 수 없습니다: {err}", "The masking spec cannot be read: {err}"},
		"mask.style": {"마스킹 방식 \"{style}\"은(는) 없습니다. blur(흐림), pixelate(모자이크), fill(채움) 중 하나여야 합니다.",
			"Masking style \"{style}\" does not exist: use blur, pixelate or fill."},
		"mask.count": {"마스킹 설정의 {what}은(는) {max}개 이하여야 합니다.", "A masking spec may have at most {max} {what}."},
		"mask.zone": {"개인정보 보호 구역 {name}의 {field} 값이 올바르지 않습니다(화면 안의 점 3개 이상, 넓이가 있는 다각형).",
			"Privacy zone {name}: {field} is not valid (at least 3 points inside the picture, enclosing an area)."},
		"mask.region": {"마스킹 영역 {name}의 {field} 값이 올바르지 않습니다(화면 안의 크기 있는 사각형, 시작 < 끝, 키프레임은 시간 순서로 구간 안에).",
			"Masking region {name}: {field} is not valid (a rectangle with a size inside the picture, from before to, keyframes in time order within the range)."},
		"mask.watermark": {"워터마크의 {field} 항목이 비었거나, 100자를 넘거나, 제어 문자가 있습니다.",
			"Watermark {field} is empty, longer than 100 characters, or has control characters."},
		"mask.ffmpeg": {"마스킹에 필요한 ffmpeg({path})를 실행할 수 없습니다. 데비안 패키지 ffmpeg를 설치하십시오.",
			"ffmpeg ({path}), needed for masking, cannot be run: install the Debian package ffmpeg."},
		"mask.font": {"워터마크 글꼴({path})이 없습니다. 데비안 패키지 fonts-nanum을 설치하십시오.",
			"The watermark font ({path}) is missing: install the Debian package fonts-nanum."},
		"export.reviewer": {"마스킹 사본에는 마스킹 영역을 검토한 사람이 있어야 합니다.", "A masked copy needs the name of who reviewed its masking."},
		"export.mask_camera": {"{camera} 카메라의 마스킹 설정이 없습니다(가리지 않으려면 빈 설정을 주십시오).",
			"There is no masking spec for camera {camera} (give an empty one to leave it unmasked on purpose)."},
		"registry.zone_points": {"개인정보 보호 구역은 점 3개에서 {max}개까지의 다각형이어야 합니다(지금 {count}개).",
			"A privacy zone is a polygon of 3 to {max} points (this one has {count})."},
		"registry.zone_point": {"개인정보 보호 구역의 {n}번째 점은 화면 안의 [x, y](각 0~1)여야 합니다.",
			"Point {n} of the privacy zone must be [x, y] inside the picture (each 0 to 1)."},
		"registry.zone_area": {"개인정보 보호 구역의 점들이 넓이를 둘러싸지 않습니다(한 줄 위에 있거나 너무 작음).",
			"The privacy zone's points enclose no area (they lie on a line, or it is too small)."},
	})
}
