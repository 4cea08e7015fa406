//go:build linux && !arm

package export

import (
	"errors"
	"syscall"
)

// startWriteback starts writing the file's dirty pages in [off, off+n) to
// disk without waiting for them.
func startWriteback(fd uintptr, off, n int64) {
	_ = syscall.SyncFileRange(int(fd), off, n, 0x2 /* SYNC_FILE_RANGE_WRITE */)
}

// setDirect turns direct I/O (O_DIRECT) on or off for fd.
func setDirect(fd uintptr, on bool) error {
	fl, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	if e != 0 {
		return e
	}
	if on {
		fl |= syscall.O_DIRECT
	} else {
		fl &^= syscall.O_DIRECT
	}
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, fl); e != 0 {
		return e
	}
	return nil
}

// directRefused reports whether a write failed because the file system
// does not do direct I/O the way it was asked.
func directRefused(err error) bool { return errors.Is(err, syscall.EINVAL) }
