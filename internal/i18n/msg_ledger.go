package i18n

// Messages of the ledger's trust (internal/ledger: key chains, witnesses;
// docs/design/ledger.md, "Threat model"): the names of the damages verify
// reports beside those of msg_ui_admin.go.
func init() {
	add(map[string]Message{
		"ledger.damage.bad-key-rotation":   {"서명키 교체 기록 불일치", "bad key rotation"},
		"ledger.damage.missing-checkpoint": {"서명 기록 삭제", "missing checkpoint"},
		"ledger.damage.untrusted-key":      {"신뢰하지 않는 서명키", "untrusted key"},
	})
}
