package recorder

import (
	"os"
	"runtime/debug"
	"strconv"
)

// GCPercent is the garbage collector target (GOGC) TuneGC gives a process
// that records. Most of a recorder's live heap is the chunk each camera is
// assembling (about a second of video, sealed in place when full), and Go's
// default of 100 lets the heap reach twice the live heap before collecting.
// At 50 the peak is about a quarter lower for a few percent more CPU; the
// figures are in docs/benchmarks.md ("Ingest").
const GCPercent = 50

// TuneGC sets the garbage collector of a recording process to GCPercent,
// unless the operator chose a setting with the GOGC environment variable,
// which is left as it is. It returns the percentage in force (-1: off) and
// whether it came from the environment. Call it once at start-up, before
// cameras start (`gwanje record` and `gwanje serve`).
func TuneGC() (percent int, fromEnv bool) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		if v == "off" {
			return -1, true
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 100, true // the runtime's reading of a bad GOGC
		}
		return n, true
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent, false
}
