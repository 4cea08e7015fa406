package recorder

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	t.Setenv("GOGC", "200")
	if p, env := TuneGC(); p != 200 || !env {
		t.Fatalf("with GOGC=200: %d, %v", p, env)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("TuneGC changed the collector (%d) although GOGC was set", got)
	}
	t.Setenv("GOGC", "off")
	if p, env := TuneGC(); p != -1 || !env {
		t.Fatalf("with GOGC=off: %d, %v", p, env)
	}
}

func TestTuneGCDefault(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "")
	unsetenv(t, "GOGC")
	if p, env := TuneGC(); p != GCPercent || env {
		t.Fatalf("without GOGC: %d, %v", p, env)
	}
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Fatalf("collector at %d after TuneGC, want %d", got, GCPercent)
	}
}

// unsetenv removes key for the test; t.Setenv first records the value to
// restore.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
