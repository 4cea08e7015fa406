package i18n

// Alarms (internal/alarm, raised by internal/health and the retention
// engine): the name of every alarm kind, "alarm.kind.<kind>", and the
// messages alarms carry, "alarm.msg.*" (docs/design/health.md).
func init() {
	add(map[string]Message{
		"alarm.kind.camera_down":          {"카메라 연결 끊김", "Camera down"},
		"alarm.kind.camera_stalled":       {"영상 수신 멈춤", "Camera stalled"},
		"alarm.kind.low_frame_rate":       {"프레임 수 부족", "Low frame rate"},
		"alarm.kind.frozen":               {"화면 정지", "Frozen picture"},
		"alarm.kind.image_problem":        {"화면 이상", "Image problem"},
		"alarm.kind.gap":                  {"녹화 공백", "Recording gap"},
		"alarm.kind.storage_unwritable":   {"저장장치 쓰기 불가", "Storage not writable"},
		"alarm.kind.storage_low":          {"저장 공간 부족", "Storage low"},
		"alarm.kind.storage_write_errors": {"저장 오류", "Storage write errors"},
		"alarm.kind.retention_broken":     {"보관기간 위반", "Retention broken"},

		"alarm.msg.no_video":            {"{duration} 동안 영상이 없습니다", "No video for {duration}"},
		"alarm.msg.no_video_error":      {"{duration} 동안 영상이 없습니다(마지막 오류: {error})", "No video for {duration} (last error: {error})"},
		"alarm.msg.stalled":             {"연결은 되어 있으나 {duration} 동안 영상이 없습니다", "Connected, but no video for {duration}"},
		"alarm.msg.stalled_error":       {"연결은 되어 있으나 {duration} 동안 영상이 없습니다(마지막 오류: {error})", "Connected, but no video for {duration} (last error: {error})"},
		"alarm.msg.low_frame_rate":      {"초당 {fps}프레임으로, 기대치 {expected}프레임에 못 미칩니다", "{fps} frames/s, expected {expected}"},
		"alarm.msg.frozen":              {"최근 키 프레임 {n}개가 모두 같습니다: 화면이 멈췄습니다", "The last {n} key frames are identical: the picture is frozen"},
		"alarm.msg.image_problem":       {"정지화상 점검: {findings}", "Still-frame check: {findings}"},
		"alarm.msg.gap_error":           {"{duration} 동안 녹화되지 않았습니다(원인: {cause}: {error})", "No recording for {duration} (cause: {cause}: {error})"},
		"alarm.msg.gap":                 {"{duration} 동안 녹화되지 않았습니다(원인: {cause})", "No recording for {duration} (cause: {cause})"},
		"alarm.msg.unwritable":          {"{dir}에 쓸 수 없습니다: {error}", "Cannot write to {dir}: {error}"},
		"alarm.msg.free_fraction":       {"여유 공간이 {percent}%({free}/{total})로 기준 {threshold}% 미만입니다", "{percent}% free ({free} of {total}), below {threshold}%"},
		"alarm.msg.free_bytes":          {"여유 공간이 {free}로 기준 {threshold} 미만입니다", "{free} free, below {threshold}"},
		"alarm.msg.time_to_full":        {"현재 쓰기 속도(초당 {rate})로 {duration} 뒤 가득 찹니다(기준 {threshold})", "Full in {duration} at {rate}/s (threshold {threshold})"},
		"alarm.msg.storage_recovered":   {"여유 공간 {percent}%({free}), 가득 찰 때까지 {full}: 해제 기준({clear_percent}%, {clear_full})을 넘었습니다", "{percent}% free ({free}), full in {full}: above the clearing levels ({clear_percent}%, {clear_full})"},
		"alarm.msg.write_errors":        {"세그먼트 쓰기 실패가 지금까지 {n}건입니다", "{n} failed segment writes so far"},
		"alarm.msg.not_filling":         {"채워지지 않음", "not filling"},
		"alarm.msg.cause_unknown":       {"알 수 없음", "unknown"},
		"alarm.msg.cause_discontinuity": {"스트림 불연속", "stream discontinuity"},
	})
}
