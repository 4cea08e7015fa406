package retention

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ledger"
)

// failingLedger refuses every row, as a full or broken ledger would.
type failingLedger struct{}

func (failingLedger) Append(context.Context, ledger.Entry) (ledger.Entry, error) {
	return ledger.Entry{}, errors.New("ledger unavailable")
}

// A receipt verifies only with the 파기 row that names its hash in the data
// directory's ledger: found (and its number given) when retention wrote
// it, a problem when the receipt was written and its row never was.
func TestReceiptVerifiedAgainstItsLedgerRow(t *testing.T) {
	for _, tc := range []string{"recorded", "missing"} {
		t.Run(tc, func(t *testing.T) {
			start := kst("2026-03-01 09:00:00")
			e := newEnv(t, start, rules{}, Config{})
			ctx := context.Background()
			real, err := ledger.Open(ctx, ledger.Options{Dir: e.dir, Clock: clock.NewFake(start), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer real.Close()
			e.opt.Ledger = real
			if tc == "missing" {
				e.opt.Ledger = failingLedger{}
			}
			e.eng.Close()
			if e.eng, err = New(ctx, e.opt); err != nil {
				t.Fatal(err)
			}
			e.record("cam-a", start, 3)
			e.clk.Set(kst("2026-04-01 00:00:30"))
			_, err = e.eng.RunOnce(ctx)
			if tc == "recorded" && err != nil {
				t.Fatal(err)
			}
			names, _ := filepath.Glob(filepath.Join(e.dir, "receipts", "*.json"))
			if len(names) != 1 {
				t.Fatalf("receipts %v (run: %v)", names, err)
			}
			v, err := VerifyReceipt(names[0], e.dir, "")
			if err != nil {
				t.Fatal(err)
			}
			switch tc {
			case "recorded":
				if !v.OK() || v.Ledger != "recorded" || v.LedgerRow == 0 {
					t.Errorf("a recorded receipt: ok %v, ledger %s #%d, problems %v", v.OK(), v.Ledger, v.LedgerRow, v.Problems)
				}
			case "missing":
				if v.OK() || v.Ledger != "missing" || !strings.Contains(strings.Join(v.Problems, "; "), "no 파기 row") {
					t.Errorf("a receipt without its row: ok %v, ledger %s, problems %v", v.OK(), v.Ledger, v.Problems)
				}
			}
		})
	}
}
