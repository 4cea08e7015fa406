// Package bench runs gwanje's benchmarks that need whole processes: the
// recorder measured against one ffmpeg per camera on the same streams, in
// the same run, from the outside (CPU and memory read from /proc).
package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHz is the unit of utime/stime in /proc/<pid>/stat. Linux fixes it at
// 100 for user space (USER_HZ) whatever the kernel's tick rate.
const userHz = 100

// Usage is what a process has used so far.
type Usage struct {
	CPU     time.Duration // user + system
	RSS     int64         // resident set now, bytes
	PeakRSS int64         // high-water mark of the resident set, bytes
}

// ReadUsage reads pid's usage from /proc.
func ReadUsage(pid int) (Usage, error) {
	var u Usage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name (field 2) may contain spaces and parentheses: the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return u, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return u, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	u.CPU = time.Duration(ut+st) * time.Second / userHz

	s, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	defer s.Close()
	sc := bufio.NewScanner(s)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			u.RSS = kib(line)
		case strings.HasPrefix(line, "VmHWM:"):
			u.PeakRSS = kib(line)
		}
	}
	return u, sc.Err()
}

func kib(line string) int64 {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n << 10
}
