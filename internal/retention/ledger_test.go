package retention

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// TestHoldsInLedger: placing and releasing holds (by id and by owner) each
// leave a ledger row naming the hold, its cameras, period, reason and
// actor; when the ledger refuses the row, the hold is not placed.
func TestHoldsInLedger(t *testing.T) {
	start := kst("2026-03-01 09:00:00")
	e := newEnv(t, start, rules{}, Config{})
	ctx := context.Background()
	h, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerManual, Actor: "kim", Reason: "수사기관 협조 요청",
		Cameras: []string{"cam-a"}, From: start, To: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerRequest, Ref: "req-3", Reason: "열람 청구", From: start, To: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Holds().Release(ctx, h.ID, "lee"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.eng.Holds().ReleaseOwned(ctx, OwnerRequest, "req-3", ""); n != 1 || err != nil {
		t.Fatalf("ReleaseOwned = %d, %v", n, err)
	}
	ents := e.led.entries()
	if len(ents) != 4 {
		t.Fatalf("%d ledger rows, want 4: %+v", len(ents), ents)
	}
	want := []struct {
		actor, object, detail string
		cams                  int
	}{
		{"kim", "hold 1", "hold placed: hold 1, owner manual; cameras cam-a; reason: 수사기관 협조 요청", 1},
		{"", "hold 2", "hold placed: hold 2, owner request, ref req-3; cameras every camera; reason: 열람 청구", 0},
		{"lee", "hold 1", "hold released: hold 1", 1},
		{"", "hold 2", "hold released: hold 2, owner request, ref req-3", 0},
	}
	for i, w := range want {
		en := ents[i]
		if en.Kind != HoldLedgerKind || en.Actor != w.actor || en.Object != w.object || !strings.HasPrefix(en.Detail, w.detail) ||
			len(en.Cameras) != w.cams || !en.From.Equal(start) || !en.To.Equal(start.Add(time.Hour)) || en.Purpose == "" {
			t.Errorf("row %d: %+v, want %+v", i, en, w)
		}
	}
	_ = r

	// The ledger refuses: no hold is placed, none released.
	e.opt.Ledger = ledger.AppenderFunc(func(context.Context, ledger.Entry) (ledger.Entry, error) {
		return ledger.Entry{}, errors.New("ledger disk full")
	})
	e.eng.Close()
	if e.eng, err = New(ctx, e.opt); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerManual, Actor: "kim", Reason: "x", From: start, To: start.Add(time.Hour)}); err == nil {
		t.Error("a hold was placed without its ledger row")
	}
	if hs, _ := e.eng.Holds().List(ctx, true); len(hs) != 2 {
		t.Errorf("%d holds after a refused Add, want 2", len(hs))
	}
	// A hold list opened without a ledger only reads.
	ro, err := OpenHolds(ctx, e.dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Add(ctx, Hold{Owner: OwnerManual, Actor: "kim", Reason: "x", From: start, To: start.Add(time.Hour)}); !errs.Is(err, errs.Invalid) {
		t.Errorf("Add without a ledger: %v", err)
	}
}

// TestRecoveryAppendsLedgerRowOnce: a run that dies after its receipts and
// 파기 rows were written, before its intent was removed, is completed at
// the next start without a second 파기 row — with a ledger that cannot be
// queried (the run's note says which rows exist) and with the real ledger
// (queried by receipt, even when the note was lost).
func TestRecoveryAppendsLedgerRowOnce(t *testing.T) {
	for _, tc := range []string{"note", "query"} {
		t.Run(tc, func(t *testing.T) {
			start := kst("2026-03-01 09:00:00")
			e := newEnv(t, start, rules{}, Config{})
			ctx := context.Background()
			var led ledger.Appender = e.led
			var real *ledger.Ledger
			if tc == "query" {
				var err error
				real, err = ledger.Open(ctx, ledger.Options{Dir: e.dir, Clock: clock.NewFake(start), Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				defer real.Close()
				led = real
			}
			e.opt.Ledger = led
			e.eng.Close()
			var err error
			if e.eng, err = New(ctx, e.opt); err != nil {
				t.Fatal(err)
			}
			e.record("cam-a", start, 3)
			e.record("cam-b", start, 3)
			e.clk.Set(kst("2026-04-01 00:00:30"))
			crash := errors.New("crash")
			e.eng.hook = func(step string) error {
				if step == "recorded" {
					return crash
				}
				return nil
			}
			if _, err := e.eng.RunOnce(ctx); !errors.Is(err, crash) {
				t.Fatalf("RunOnce: %v", err)
			}
			if tc == "query" {
				notes, _ := filepath.Glob(filepath.Join(e.dir, "receipts", "pending", "*.ledger"))
				if len(notes) != 1 {
					t.Fatalf("notes %v", notes)
				}
				os.Remove(notes[0]) // lost: only the query can tell
			}
			e.eng.Close()
			if e.eng, err = New(ctx, e.opt); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(e.dir, "receipts", "pending", "*")); len(left) != 0 {
				t.Errorf("left in pending: %v", left)
			}
			var objects []string
			if tc == "query" {
				ents, err := real.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.Destruction}})
				if err != nil {
					t.Fatal(err)
				}
				for _, en := range ents {
					objects = append(objects, en.Object)
				}
			} else {
				for _, en := range e.led.entries() {
					if en.Kind == ledger.Destruction {
						objects = append(objects, en.Object)
					}
				}
			}
			if len(objects) != 2 || objects[0] == objects[1] {
				t.Errorf("파기 rows %v, want one per camera", objects)
			}
			if rs := e.verifyAll(); len(rs) != 2 {
				t.Errorf("%d receipts, want 2", len(rs))
			}
		})
	}
}

// TestSignedFileBytes: sign builds the receipt file by hand (the body is
// not re-scanned); its bytes are exactly what json.Marshal of the
// signedFile gives, and it parses and verifies.
func TestSignedFileBytes(t *testing.T) {
	k, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := &Receipt{Format: ReceiptFormat, ID: "run-cam", Camera: "cam", Reason: ReasonRetention, Detail: "a <b> & \"c\"",
		Segments: []Destroyed{{ID: 7, Bytes: 3, SHA256: "ab"}}}
	got, err := k.sign(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(r)
	var f signedFile
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(signedFile{Receipt: body, KeyID: k.ID, PublicKey: f.PublicKey, Signature: f.Signature})
	if string(got) != string(want)+"\n" {
		t.Errorf("receipt file\n%s\nwant\n%s", got, want)
	}
	if back, _, err := ParseReceipt(got); err != nil || back.Detail != r.Detail {
		t.Errorf("ParseReceipt: %+v, %v", back, err)
	}
}
