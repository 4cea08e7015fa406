package recorder

import (
	"os"
	"runtime/debug"
)

// Memory budget of a recording process, for TuneGC: a fixed part (the
// runtime, the index, the web server) and a part per camera. A camera's
// live heap is mostly the chunk it is assembling, about a second of video
// (some 280 KiB at 2 Mbit/s), sealed in place when full.
const (
	MemoryBase      = 48 << 20
	MemoryPerCamera = 640 << 10
)

// TuneGC sets the garbage collector of a process that records cameras:
// a soft memory limit of MemoryBase + cameras × MemoryPerCamera, with GOGC
// left at its default of 100. Below the limit the collector runs as usual
// (the heap grows to twice the live heap), which suits a few cameras, whose
// memory is mostly fixed overhead; with hundreds of cameras twice the live
// heap would pass a MiB per camera, and the limit makes the collector run
// earlier instead. The limit is soft: when the disk stalls and frames queue
// up, the heap grows past it and the runtime caps the collector at half
// the CPU rather than thrash. An operator's GOGC or GOMEMLIMIT is left as it
// is. TuneGC returns the limit set (0 if none). Call it before cameras
// start and when their number changes; docs/benchmarks.md ("Ingest") has
// the measurements behind the choice.
func TuneGC(cameras int) int64 {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return 0
	}
	if _, ok := os.LookupEnv("GOGC"); ok {
		return 0
	}
	limit := int64(MemoryBase) + int64(cameras)*MemoryPerCamera
	debug.SetMemoryLimit(limit)
	return limit
}
