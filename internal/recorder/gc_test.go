package recorder

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			if got := TuneGC(100); got != 0 {
				t.Fatalf("with %s set: limit %d, want none", env, got)
			}
			if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
				t.Fatalf("TuneGC set a limit of %d although %s was set", l, env)
			}
		})
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOGC")
	os.Unsetenv("GOMEMLIMIT")
	want := int64(MemoryBase + 256*MemoryPerCamera)
	if got := TuneGC(256); got != want {
		t.Fatalf("limit %d for 256 cameras, want %d", got, want)
	}
	if l := debug.SetMemoryLimit(-1); l != want {
		t.Fatalf("runtime limit %d, want %d", l, want)
	}
}
