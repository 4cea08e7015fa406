package i18n

// Messages of the account routes (internal/access: users, grants, login,
// sessions, passwords, TOTP).
func init() {
	add(map[string]Message{
		"grant.site":           {"사이트 {site}의 사용자를 관리할 권한이 없습니다.", "You do not manage the users of site {site}."},
		"grant.perm":           {"사이트 {site}에서 {perm} 권한을 가지고 있지 않아 부여할 수 없습니다.", "You cannot give {perm} on site {site}: you do not hold it there."},
		"user.self_grants":     {"자신의 권한은 변경할 수 없습니다. 다른 관리자에게 요청하십시오.", "You cannot change your own grants; ask another administrator."},
		"user.self_deactivate": {"자신의 계정은 비활성화할 수 없습니다.", "You cannot deactivate your own account."},
		"user.self_reset":      {"자신의 비밀번호는 재설정할 수 없습니다. 비밀번호 변경을 이용하십시오.", "You cannot reset your own password; change it instead."},
		"user.deactivated":     {"비활성화된 사용자입니다.", "The user is deactivated."},
		"user.beyond":          {"이 사용자는 귀하가 관리하는 범위를 넘는 권한을 가지고 있습니다.", "This user holds grants beyond those you manage."},
	})
}
