package i18n

// Messages of the operator's pages (internal/web: the layout, sign-in,
// home, live view, playback). Keys under ui.js., ui.state. and ui.alarm.
// are also sent to the pages' scripts. Administrative pages have theirs in
// msg_ui_admin.go.
func init() {
	add(map[string]Message{
		// layout
		"ui.app":         {"관제 영상정보 관리", "gwanje video management"},
		"ui.skip":        {"본문으로 건너뛰기", "Skip to content"},
		"ui.menu":        {"메뉴", "Menu"},
		"ui.logout":      {"로그아웃", "Sign out"},
		"ui.lang.switch": {"English", "한국어"},
		"ui.policy":      {"영상정보처리기기 운영·관리 방침", "Video surveillance policy"},
		"ui.zone":        {"모든 시각은 기관 표준시({zone}, {name})입니다.", "All times are the institution's time ({zone}, {name})."},
		"ui.home":        {"처음 화면으로", "Back to the home page"},
		"ui.cancel":      {"취소", "Cancel"},
		"ui.close":       {"닫기", "Close"},

		"ui.error.title":     {"오류", "Error"},
		"ui.error.not_found": {"찾는 화면이 없습니다.", "There is no such page."},
		"ui.error.forbidden": {"이 화면을 볼 권한이 없습니다.", "You do not have permission to see this page."},

		// sign-in
		"ui.login.title":     {"로그인", "Sign in"},
		"ui.login.name":      {"아이디", "User name"},
		"ui.login.password":  {"비밀번호", "Password"},
		"ui.login.totp":      {"인증 코드(OTP)", "Authentication code (OTP)"},
		"ui.login.totp_hint": {"OTP를 등록한 사용자만 입력합니다.", "Only if you have enrolled an authenticator app."},
		"ui.login.submit":    {"로그인", "Sign in"},

		"ui.password.title":  {"비밀번호 변경", "Change password"},
		"ui.password.must":   {"임시 비밀번호로 로그인했습니다. 계속하려면 새 비밀번호를 정하십시오.", "You signed in with a one-time password. Choose a new password to continue."},
		"ui.password.old":    {"현재 비밀번호", "Current password"},
		"ui.password.new":    {"새 비밀번호", "New password"},
		"ui.password.again":  {"새 비밀번호 확인", "New password again"},
		"ui.password.rules":  {"추측하기 어려운 12자 이상의 문장이나 단어 조합을 권합니다.", "A phrase or a mix of words of 12 characters or more, hard to guess, is best."},
		"ui.password.submit": {"변경", "Change"},

		"ui.totp.title":   {"OTP 등록", "Authenticator app"},
		"ui.totp.explain": {"휴대전화의 인증 앱(OTP)을 등록하면 로그인할 때 6자리 코드를 함께 입력합니다.", "With an authenticator app enrolled, you enter its 6-digit code when you sign in."},
		"ui.totp.begin":   {"등록 시작", "Start enrolment"},
		"ui.totp.secret":  {"인증 앱에 다음 비밀 키를 입력하십시오.", "Enter this secret key in your authenticator app."},
		"ui.totp.uri":     {"또는 다음 주소:", "Or this address:"},
		"ui.totp.code":    {"앱에 표시된 6자리 코드", "The 6-digit code the app shows"},
		"ui.totp.confirm": {"확인", "Confirm"},
		"ui.totp.done":    {"OTP가 등록되었습니다.", "The authenticator app is enrolled."},

		// home
		"ui.home.title":         {"현황", "Overview"},
		"ui.home.alarms":        {"확인이 필요한 알람", "Alarms needing attention"},
		"ui.home.no_alarms":     {"확인할 알람이 없습니다.", "No alarm needs attention."},
		"ui.home.cameras":       {"카메라", "Cameras"},
		"ui.home.down":          {"녹화 중이 아닌 카메라 {n}대", "{n} not recording"},
		"ui.home.no_cameras":    {"볼 수 있는 카메라가 없습니다.", "There is no camera you may see."},
		"ui.home.since":         {"{time}부터", "since {time}"},
		"ui.home.oldest":        {"가장 오래된 영상", "Oldest footage"},
		"ui.home.promised":      {"보관기간 {period}", "kept {period}"},
		"ui.home.broken":        {"보관기간 미달", "Below the promised period"},
		"ui.home.bytes":         {"저장 용량", "Storage used"},
		"ui.home.gaps":          {"오늘 녹화 공백", "Recording gaps today"},
		"ui.home.no_gaps":       {"없음", "None"},
		"ui.home.storage":       {"저장장치", "Storage"},
		"ui.home.storage_use":   {"영상 {used} 사용 · 여유 {free} / 전체 {total}", "Footage {used} · free {free} of {total}"},
		"ui.home.clock_problem": {"서버 시계에 문제가 있어 보관기간 만료 영상 파기를 멈췄습니다.", "Destruction of expired footage is paused: the server's clock is in doubt."},
		"ui.home.holds":         {"보존 조치", "Holds"},
		"ui.home.no_holds":      {"보존 조치가 없습니다.", "No footage is on hold."},
		"ui.hold.cameras":       {"카메라", "Cameras"},
		"ui.hold.period":        {"기간", "Period"},
		"ui.hold.reason":        {"사유", "Reason"},
		"ui.hold.placed":        {"조치 일시", "Placed"},

		// camera states
		"ui.state.recording":     {"녹화 중", "Recording"},
		"ui.state.connecting":    {"연결 중", "Connecting"},
		"ui.state.down":          {"연결 끊김", "Disconnected"},
		"ui.state.not_recording": {"녹화 안 함", "Not recording"},

		// alarms
		"ui.alarm.camera_down":          {"카메라 끊김", "Camera down"},
		"ui.alarm.camera_stalled":       {"영상 멈춤(연결 유지)", "Video stalled (still connected)"},
		"ui.alarm.low_frame_rate":       {"프레임 저하", "Low frame rate"},
		"ui.alarm.frozen":               {"화면 정지", "Frozen picture"},
		"ui.alarm.image_problem":        {"화질 이상", "Image problem"},
		"ui.alarm.gap":                  {"녹화 공백", "Recording gap"},
		"ui.alarm.storage_unwritable":   {"저장장치 쓰기 불가", "Storage not writable"},
		"ui.alarm.storage_low":          {"저장공간 부족", "Storage low"},
		"ui.alarm.storage_write_errors": {"저장 오류", "Storage write errors"},
		"ui.alarm.retention_broken":     {"보관기간 위반", "Retention broken"},
		"ui.alarm.critical":             {"긴급", "Critical"},
		"ui.alarm.warning":              {"주의", "Warning"},
		"ui.alarm.cleared":              {"해소", "Cleared"},
		"ui.alarm.raised":               {"발생 {time}", "raised {time}"},
		"ui.alarm.acked":                {"{user} 확인 ({time})", "acknowledged by {user} ({time})"},
		"ui.alarm.note":                 {"메모", "Note"},
		"ui.alarm.ack":                  {"확인", "Acknowledge"},

		// purpose of viewing
		"ui.purpose.title":    {"열람 목적", "Purpose of viewing"},
		"ui.purpose.explain":  {"영상을 보기 전에 목적과 사유를 적습니다. 관리대장에 기록됩니다.", "Before any picture, state the purpose and the reason. Both are recorded in the ledger."},
		"ui.purpose.category": {"목적", "Purpose"},
		"ui.purpose.choose":   {"— 고르십시오 —", "— choose —"},
		"ui.purpose.reason":   {"사유", "Reason"},
		"ui.purpose.ok":       {"확인하고 보기", "Confirm and view"},

		// live view
		"ui.live.title":  {"실시간 영상", "Live view"},
		"ui.live.layout": {"화면 분할", "Layout"},
		"ui.live.start":  {"보기 시작", "Start viewing"},

		// playback
		"ui.playback.title":        {"녹화 영상 재생", "Playback"},
		"ui.playback.date":         {"날짜", "Date"},
		"ui.playback.cameras":      {"카메라", "Cameras"},
		"ui.playback.speed":        {"배속", "Speed"},
		"ui.playback.play":         {"재생", "Play"},
		"ui.playback.pause":        {"일시정지", "Pause"},
		"ui.playback.back":         {"◀ 한 프레임", "◀ One frame"},
		"ui.playback.forward":      {"한 프레임 ▶", "One frame ▶"},
		"ui.playback.legend_run":   {"녹화", "Recorded"},
		"ui.playback.legend_gap":   {"공백", "Gap"},
		"ui.playback.legend_hold":  {"보존 조치", "Hold"},
		"ui.playback.legend_alarm": {"알람", "Alarm"},
		"ui.playback.help":         {"타임라인을 누르거나 끌어서 원하는 시각으로 이동합니다. 확대 막대는 커서 앞뒤 1시간입니다. 키보드: ←/→ 1분(확대 막대 10초), Shift 10분(1분), Enter 재생.", "Click or drag on a timeline to go to a time; the zoom bar is the hour around the cursor. Keys: ←/→ one minute (zoom: ten seconds), with Shift ten (one), Enter plays."},

		// script messages
		"ui.js.error.nocode":       {"서버가 알 수 없는 오류를 보냈습니다(HTTP {status}).", "The server sent an unknown error (HTTP {status})."},
		"ui.js.error.network":      {"서버에 연결할 수 없습니다.", "Cannot reach the server."},
		"ui.js.password.mismatch":  {"새 비밀번호가 서로 다릅니다.", "The new passwords differ."},
		"ui.js.purpose.cancelled":  {"열람 목적을 입력하지 않아 영상을 열지 않았습니다.", "No purpose was given, so no footage was opened."},
		"ui.js.live.none":          {"— 카메라 없음 —", "— no camera —"},
		"ui.js.live.connecting":    {"연결 중…", "Connecting…"},
		"ui.js.live.ended":         {"영상이 끊겼습니다. 다시 연결합니다…", "The stream ended. Reconnecting…"},
		"ui.js.video.unsupported":  {"이 브라우저는 이 카메라의 영상 형식({codec})을 재생할 수 없습니다. 영상을 내려받아 재생하십시오.", "This browser cannot play this camera's video format ({codec}). Download the footage to play it."},
		"ui.js.video.download":     {"MP4 내려받기", "Download MP4"},
		"ui.js.video.error":        {"영상을 재생할 수 없습니다.", "The video cannot be played."},
		"ui.js.playback.pick":      {"타임라인에서 볼 시각을 누르십시오.", "Click a time on a timeline to play it."},
		"ui.js.playback.loading":   {"불러오는 중…", "Loading…"},
		"ui.js.playback.gap":       {"녹화 공백", "No recording"},
		"ui.js.playback.play":      {"재생", "Play"},
		"ui.js.playback.pause":     {"일시정지", "Pause"},
		"ui.playback.zoom":         {"확대(1시간)", "Zoom (one hour)"},
		"ui.playback.timeline":     {"타임라인", "Timelines"},
		"ui.js.playback.no_camera": {"재생할 카메라를 고르십시오.", "Choose the cameras to play."},
	})
}
