//go:build linux && !arm

package export

import "syscall"

// startWriteback starts writing the file's dirty pages in [off, off+n) to
// disk without waiting for them.
func startWriteback(fd uintptr, off, n int64) {
	_ = syscall.SyncFileRange(int(fd), off, n, 0x2 /* SYNC_FILE_RANGE_WRITE */)
}
