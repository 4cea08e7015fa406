package i18n

// Messages of the account routes (internal/access: users, grants, login,
// sessions, passwords, TOTP).
func init() {
	add(map[string]Message{
		// Login and proof of identity.
		"login.failed": {"사용자 이름, 비밀번호 또는 인증 코드가 올바르지 않거나, 실패가 반복되어 잠시 로그인할 수 없습니다.",
			"Wrong user name, password or code, or too many failures: signing in is blocked for a while."},
		"login.locked":           {"실패가 반복되어 잠시 후에 다시 시도해야 합니다.", "Too many failures: try again later."},
		"password.wrong":         {"현재 비밀번호가 올바르지 않습니다.", "The current password is wrong."},
		"password.or_code_wrong": {"현재 비밀번호 또는 인증 코드가 올바르지 않습니다.", "The current password or code is wrong."},
		"password.must_change":   {"임시 비밀번호를 먼저 변경해야 합니다.", "Change the one-time password first."},
		// Password rules.
		"password.short":         {"비밀번호는 {min}자 이상이어야 합니다.", "The password must have at least {min} characters."},
		"password.long":          {"비밀번호는 {max}자 이하여야 합니다.", "The password may have at most {max} characters."},
		"password.classes":       {"비밀번호는 영문자, 숫자, 특수문자 중 {min}종류 이상을 섞어야 합니다.", "The password must mix at least {min} of letters, digits and symbols."},
		"password.contains_name": {"비밀번호에 사용자 이름을 넣을 수 없습니다.", "The password may not contain the user's name."},
		"password.weak":          {"추측하기 쉬운 비밀번호입니다. 흔하지 않은 낱말 여러 개를 섞어 더 길게 만드십시오.", "The password is easy to guess. Make it longer, from several uncommon words."},
		"password.same":          {"새 비밀번호는 현재 비밀번호와 달라야 합니다.", "The new password must differ from the current one."},
		// TOTP.
		"totp.wrong":        {"인증 코드가 맞지 않습니다.", "The code does not match."},
		"totp.no_enrolment": {"진행 중인 OTP 등록이 없습니다. 처음부터 다시 시작하십시오.", "No authenticator enrolment is in progress; start again."},
		"totp.off":          {"OTP가 설정되어 있지 않습니다.", "No authenticator is set up."},
		// The enrolment page (templates/totp.html).
		"ui.totp.password": {"현재 비밀번호", "Current password"},
		// Users.
		"user.name":            {"사용자 이름은 공백·제어 문자·/ \\ : * 없이 {max}자 이내여야 하며, 여러 문자 체계를 섞을 수 없습니다.", "The user name must have at most {max} characters, no spaces, control characters or / \\ : *, and one script only."},
		"user.exists":          {"사용자 {name}이(가) 이미 있습니다(대소문자·전각 문자 차이는 같은 이름입니다).", "User {name} already exists (names differing only in case or width are the same)."},
		"user.display":         {"표시 이름은 제어 문자 없이 {max}자 이내여야 합니다.", "The display name must have at most {max} characters and no control characters."},
		"user.reason":          {"비활성화 사유는 전보, 퇴직, 기타 중 하나여야 합니다.", "The reason must be transfer, retirement or other."},
		"user.self_grants":     {"자신의 권한은 변경할 수 없습니다. 다른 관리자에게 요청하십시오.", "You cannot change your own grants; ask another administrator."},
		"user.self_deactivate": {"자신의 계정은 비활성화할 수 없습니다.", "You cannot deactivate your own account."},
		"user.self_reset":      {"자신의 비밀번호는 재설정할 수 없습니다. 비밀번호 변경을 이용하십시오.", "You cannot reset your own password; change it instead."},
		"user.deactivated":     {"비활성화된 사용자입니다.", "The user is deactivated."},
		"user.beyond":          {"이 사용자는 귀하가 관리하는 범위를 넘는 권한을 가지고 있습니다.", "This user holds grants beyond those you manage."},
		// Grants.
		"grant.site":      {"사이트 {site}의 사용자를 관리할 권한이 없습니다.", "You do not manage the users of site {site}."},
		"grant.perm":      {"사이트 {site}에서 {perm} 권한을 가지고 있지 않아 부여할 수 없습니다.", "You cannot give {perm} on site {site}: you do not hold it there."},
		"grant.role":      {"알 수 없는 역할입니다: {name}", "Unknown role: {name}"},
		"grant.perm_name": {"알 수 없는 권한입니다: {name}", "Unknown permission: {name}"},
		"grant.no_sites":  {"권한에는 사이트가 하나 이상(또는 전체 *) 있어야 합니다.", "A grant needs at least one site (or * for every site)."},
		"grant.site_id":   {"사이트 이름이 올바르지 않습니다: {site}", "Not a site id: {site}"},
		"grant.period":    {"권한의 종료 시각은 시작 시각보다 뒤여야 합니다.", "A grant must end after it starts."},
		"grant.title":     {"직함은 {max}자 이내여야 합니다.", "The title may have at most {max} characters."},
	})
}
