package web

// The sign-in pages: login, the forced change of a one-time password, and
// TOTP enrolment. Each talks to the account API (POST /api/login,
// /api/password, /api/totp, /api/totp/confirm) from ui/login.js.
func init() {
	AddPage(&Page{Name: "login", Title: "ui.login.title", Public: true, AllowMustChange: true, Scripts: []string{"login.js"}})
	AddPage(&Page{Name: "password", Title: "ui.password.title", AllowMustChange: true, Scripts: []string{"login.js"}})
	AddPage(&Page{Name: "totp", Title: "ui.totp.title", Scripts: []string{"login.js"}, Menu: 90})
}
