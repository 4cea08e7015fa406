//go:build !linux || arm

package export

func startWriteback(fd uintptr, off, n int64) {}
