package ledger_test

import (
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
)

// Every damage verify can report has a name in the catalogue, under the key
// the web pages look up ("ledger.damage." + its name, spaces as dashes).
func TestEveryDamageIsInTheCatalogue(t *testing.T) {
	for _, d := range ledger.Damages() {
		key := "ledger.damage." + strings.ReplaceAll(d.String(), " ", "-")
		if strings.HasPrefix(d.String(), "damage(") || !i18n.Has(key) {
			t.Errorf("damage %d (%s): no catalogue entry %s", d, d, key)
		}
	}
}
