package app

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
)

// TestLedgerDownFootageRefusedRecordingGoesOn: when the ledger cannot be
// written (here: closed under the running app), footage is refused — no
// viewing without its row — and so are logins, while the recorder keeps
// recording: a full ledger disk must not take recording down.
func TestLedgerDownFootageRefusedRecordingGoesOn(t *testing.T) {
	if testing.Short() {
		t.Skip("records a simulated camera for a few seconds")
	}
	t.Parallel()
	a, _, c := healthApp(t, 1)
	ctx := context.Background()
	newest := func() int64 {
		cs, err := a.store.Cameras(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cs {
			if s.Camera == "cam-1" {
				return s.Newest
			}
		}
		return 0
	}
	// Viewable footage, not only a segment's first row: the gate refuses a
	// range with nothing to show (footage.none) before it writes a row, so
	// the range below must hold frames for the ledger to be what fails.
	viewable := func() bool {
		now := time.Now()
		segs, err := a.store.Segments(ctx, "cam-1", media.Time90k(now.Add(-5*time.Second)), media.Time90k(now))
		return err == nil && len(segs) > 0
	}
	waitUntil(t, "cam-1 recording", 20*time.Second, func() bool { return newest() > 0 && viewable() })

	if err := a.ledger.Close(); err != nil {
		t.Fatal(err)
	}
	before := newest()
	now := time.Now().UTC()
	resp, body := c.do("POST", "/api/cameras/cam-1/views", map[string]any{
		"start": now.Add(-5 * time.Second), "end": now, "purpose": "시스템점검", "reason": "장애 점검"})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("view with the ledger down: %d %s, want 503", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/api/login", map[string]string{"name": "manager", "password": "wrong-password-1"})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("login with the ledger down: %d %s, want 503", resp.StatusCode, body)
	}
	waitUntil(t, "cam-1 still recording 3 s later", 20*time.Second, func() bool {
		return newest() >= before+3*media.Hz
	})
}
