package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/requests"
)

// The running App takes a request on its public route into requests.db
// (0600, under the data directory), and a restart finds it with its
// personal data, sealed under the same master keys.
func TestRequestsWired(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	log := slog.New(slog.DiscardHandler)
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body, _ := json.Marshal(map[string]any{
		"types":     []string{"existence"},
		"requester": map[string]string{"name": "유관순", "phone": "010-1111-2222", "birth": "1990-03-01", "address": "천안", "relation": "본인"},
		"subject":   map[string]string{"name": "유관순"},
		"from":      now.Add(-2 * time.Hour).Format(time.RFC3339), "to": now.Add(-time.Hour).Format(time.RFC3339),
		"place": "정문", "purpose": "확인",
	})
	resp, err := http.Post("http://"+a.ln.Addr().String()+"/api/requests", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Receipt string }
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !requests.ValidReceipt(got.Receipt) {
		a.Close()
		t.Fatalf("public submission: %d %q", resp.StatusCode, got.Receipt)
	}
	// The receipt's 관리대장 row is in the ledger under the request's number,
	// naming the requester by relation only.
	rows, err := a.ledger.Query(ctx, ledger.Filter{Ref: got.Receipt})
	if err != nil || len(rows) != 1 || rows[0].Kind != ledger.RequestReceived || rows[0].Party != "정보주체 본인" ||
		strings.Contains(rows[0].Party+rows[0].Purpose+rows[0].Detail+rows[0].Object, "유관순") {
		a.Close()
		t.Fatalf("ledger rows of the request: %+v %v", rows, err)
	}
	a.Close()
	if st, err := os.Stat(filepath.Join(cfg.DataDir, requests.FileName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("requests.db: %v %v", st, err)
	}
	a, err = Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, ok, err := a.requests.store.ByReceipt(ctx, got.Receipt)
	if err != nil || !ok {
		t.Fatalf("after a restart: %v %v", ok, err)
	}
	if p, ok, err := a.requests.store.Personal(ctx, r.ID); err != nil || !ok || p.Requester.Name != "유관순" {
		t.Fatalf("personal data after a restart: %+v %v %v", p, ok, err)
	}
}
