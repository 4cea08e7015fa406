package i18n

// Messages of the user's own language setting (PUT /api/me/lang).
func init() {
	add(map[string]Message{
		"lang.unknown": {"언어는 ko(한국어) 또는 en(English) 중 하나여야 합니다.", "The language must be ko (Korean) or en (English)."},
	})
}
