package export

import "os"

// writeBehindEvery is how many bytes are written between two write-behind
// hints.
const writeBehindEvery = 8 << 20

// writeBehind writes to a file and asks the kernel, every few megabytes,
// to start writing what it has to disk (startWriteback: sync_file_range
// on Linux, nothing elsewhere). The disk then works while the rest of the
// package is still being made, and the fsync that makes the package
// durable waits only for the tail. It is a hint: durability still comes
// from that fsync alone.
type writeBehind struct {
	f            *os.File
	off, started int64
	fd           uintptr
}

func newWriteBehind(f *os.File) *writeBehind { return &writeBehind{f: f, fd: f.Fd()} }

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writeBehindEvery {
		startWriteback(w.fd, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}
