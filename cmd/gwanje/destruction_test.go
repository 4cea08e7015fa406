package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// countSegmentFiles counts the .gws files under a data directory.
func countSegmentFiles(data string) int {
	n, _ := filepath.Glob(filepath.Join(data, "segments", "*", "*.gws"))
	return len(n)
}

// TestKill9DuringDestruction kills `gwanje retention run` with SIGKILL in
// the middle of destroying 12,000 expired segments, then restarts it.
// After the restart `gwanje check` is clean (no orphan file, no row
// without a file, no garbage left), everything due is gone, and every
// destroyed segment is in a receipt that `gwanje destruction verify`
// accepts, including the receipt completed after the crash.
func TestKill9DuringDestruction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 12,000 segments")
	}
	const cameras, perCamera = 8, 1500
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(data, "keys"), 0o700)
	keys, err := seal.CreateKeyFile(filepath.Join(data, "keys", "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Footage from 40 days ago: due under the 30-day default.
	start := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Hour)
	st, err := store.OpenFixture(context.Background(), store.Config{Dir: data, Keys: keys, SegmentDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for c := 1; c <= cameras; c++ {
		if err := storetest.Footage(st, fmt.Sprintf("cam-%02d", c), media.Time90k(start), time.Minute, perCamera); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	total := countSegmentFiles(data)
	if total != cameras*perCamera {
		t.Fatalf("fixture has %d files, want %d", total, cameras*perCamera)
	}

	cmd := exec.Command(os.Args[0], "retention", "run", "-data", data, "-batch", "200")
	cmd.Env = append(os.Environ(), "GWANJE_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// Kill once the deletion is under way, before it ends.
	deadline := time.Now().Add(60 * time.Second)
	for countSegmentFiles(data) > total-400 {
		select {
		case <-exited:
			t.Fatalf("the run ended before it could be killed:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("deletion did not start within 60 s:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	left := countSegmentFiles(data)
	if left == 0 {
		t.Fatalf("the run finished before the kill landed; nothing was interrupted")
	}
	t.Logf("killed with %d of %d segment files left", left, total)
	pending, _ := filepath.Glob(filepath.Join(data, "receipts", "pending", "*.json"))
	if len(pending) == 0 {
		t.Error("no destruction intent left by the killed run")
	}

	// Restart: the store finishes the interrupted destruction, the engine
	// completes the receipts, the run destroys the rest.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"retention", "run", "-data", data}, &stdout, &stderr); code != 0 {
		t.Fatalf("restarted run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"check", "-full", "-data", data}, &stdout, &stderr); code != 0 {
		t.Errorf("gwanje check after the restart: exit %d\n%s", code, stdout.String())
	}
	if n := countSegmentFiles(data); n != 0 {
		t.Errorf("%d segment files left after the restart, want 0 (all due)", n)
	}
	if pending, _ := filepath.Glob(filepath.Join(data, "receipts", "pending", "*.json")); len(pending) != 0 {
		t.Errorf("intents left after the restart: %v", pending)
	}
	// Every destroyed segment is in exactly one verified receipt.
	receipts, _ := filepath.Glob(filepath.Join(data, "receipts", "*.json"))
	stdout.Reset()
	args := append([]string{"destruction", "verify", "-data", data}, receipts...)
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Errorf("destruction verify: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	// Each receipt, the one completed after the crash included, has its
	// 파기 row in the ledger.
	if n := strings.Count(stdout.String(), "; ledger: 파기 row #"); n != len(receipts) {
		t.Errorf("%d of %d receipts found in the ledger:\n%s", n, len(receipts), stdout.String())
	}
	listed := map[int64]int{}
	recovered := 0
	for _, p := range receipts {
		b, _ := os.ReadFile(p)
		r, _, err := retention.ParseReceipt(b)
		if err != nil {
			t.Fatal(err)
		}
		if r.Recovered {
			recovered++
		}
		for _, s := range r.Segments {
			listed[s.ID]++
		}
	}
	if len(listed) != total {
		t.Errorf("receipts list %d segments, %d were destroyed", len(listed), total)
	}
	for id, n := range listed {
		if n != 1 {
			t.Errorf("segment %d is in %d receipts", id, n)
		}
	}
	if recovered == 0 {
		t.Error("no receipt was completed after the crash")
	}
	// A receipt whose file was changed fails, naming why.
	b, _ := os.ReadFile(receipts[0])
	os.WriteFile(receipts[0], bytes.Replace(b, []byte(`"bytes":`), []byte(`"bytes":1`), 1), 0o600)
	stdout.Reset()
	if code := run(context.Background(), []string{"destruction", "verify", "-data", data, receipts[0]}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stdout.String(), "signature does not verify") {
		t.Errorf("tampered receipt: exit %d\n%s", code, stdout.String())
	}
}

// TestHoldCLIRecordsLedger: `gwanje hold add` and `hold release` leave
// their ledger rows (a hold changes what retention may destroy); `hold
// list` only reads.
func TestHoldCLIRecordsLedger(t *testing.T) {
	data := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"hold", "add", "-data", data, "-reason", "수사 협조", "-actor", "kim",
		"-from", "2026-03-01", "-to", "2026-03-02", "-camera", "cam-01"}, &out, &errb); code != 0 {
		t.Fatalf("hold add: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if code := run(context.Background(), []string{"hold", "release", "-data", data, "-actor", "lee", "1"}, &out, &errb); code != 0 {
		t.Fatalf("hold release: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"hold", "list", "-all", "-data", data}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "released") {
		t.Fatalf("hold list: exit %d\n%s%s", code, out.String(), errb.String())
	}
	l, err := ledger.Open(context.Background(), ledger.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ents, err := l.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{retention.HoldLedgerKind}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 || ents[0].Actor != "kim" || ents[1].Actor != "lee" || ents[0].Object != "hold 1" ||
		!strings.HasPrefix(ents[1].Detail, "hold released: hold 1") || len(ents[0].Cameras) != 1 {
		t.Errorf("ledger rows %+v", ents)
	}
}
