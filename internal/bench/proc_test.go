package bench

import (
	"os"
	"testing"
	"time"
)

func TestReadUsageOfSelf(t *testing.T) {
	before, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn measurable CPU (at least two ticks of 10 ms).
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU <= before.CPU {
		t.Errorf("CPU did not advance: %v → %v (x=%d)", before.CPU, after.CPU, x)
	}
	if after.RSS <= 0 || after.PeakRSS < after.RSS {
		t.Errorf("RSS %d, peak %d", after.RSS, after.PeakRSS)
	}
	if _, err := ReadUsage(1 << 30); err == nil {
		t.Error("ReadUsage of a missing pid succeeded")
	}
}
