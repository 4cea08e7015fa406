package recorder

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

func TestDefaultRamp(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 1: 20 * time.Millisecond, 100: 2 * time.Second, 1000: 5 * time.Second} {
		if got := DefaultRamp(n); got != want {
			t.Errorf("DefaultRamp(%d) = %v, want %v", n, got, want)
		}
	}
}

// StartAll starts every camera, stops at the first that cannot start, and
// gives up waiting between starts when its context ends.
func TestStartAll(t *testing.T) {
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Config{Dir: t.TempDir(), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cam := func(id string) ingest.Camera { return ingest.Camera{ID: id, URL: "rtsp://127.0.0.1:1/" + id} }

	rec := New(st, ingest.Options{})
	if err := rec.StartAll(context.Background(), []ingest.Camera{cam("a"), cam("b"), cam("c")}, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.States()); n != 3 {
		t.Fatalf("%d cameras recording, want 3", n)
	}
	if err := rec.StartAll(context.Background(), []ingest.Camera{cam("d"), cam("a"), cam("e")}, 0); err == nil {
		t.Fatal("starting a camera twice succeeded")
	}
	if _, ok := rec.Supervisor("e"); ok {
		t.Fatal("a camera after the failed one was started")
	}
	rec.Close()

	rec = New(st, ingest.Options{})
	defer rec.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err = rec.StartAll(ctx, []ingest.Camera{cam("f"), cam("g")}, time.Hour)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("StartAll with an ended context: %v after %v", err, time.Since(start))
	}
}
