//go:build unix

package store

import (
	"math"
	"syscall"
)

// mapFile maps f read-only into memory, whole; nil if it cannot (f is not
// an operating system file, or is empty or too large to map).
func mapFile(f ReadFile) ([]byte, func() error) {
	of, ok := f.(interface{ Fd() uintptr })
	if !ok {
		return nil, nil
	}
	size := f.Size()
	if size <= 0 || size > math.MaxInt32 && math.MaxInt == math.MaxInt32 {
		return nil, nil
	}
	m, err := syscall.Mmap(int(of.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil
	}
	return m, func() error { return syscall.Munmap(m) }
}
