package ingest

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// readBufSize is the most one read system call takes from a camera's
// socket: whatever the kernel holds, many RTP packets at once, where
// gortsplib's own 4 KiB reader takes two or three.
const readBufSize = 64 << 10

// readBufs are shared by every camera: a connection takes one only while
// it holds bytes not yet read, never while it waits for the socket, so a
// few buffers serve hundreds of cameras.
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// readConn is the TCP connection to a camera, read in large batches
// through a shared buffer. docs/design/ingest.md ("Cost").
type readConn struct {
	net.Conn
	raw syscall.RawConn

	// Used by the one reading goroutine (gortsplib's reader).
	buf  *[]byte // nil when no bytes are buffered
	r, w int
}

// newReadConn wraps c; a connection that gives no raw access to its
// socket is returned as it is.
func newReadConn(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &readConn{Conn: c, raw: raw}
}

func (c *readConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.buf == nil {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	if c.r == c.w {
		readBufs.Put(c.buf)
		c.buf = nil
	}
	return n, nil
}

// fill waits until the socket is readable, then reads what it holds into
// a buffer from the pool. The buffer is taken only once there is
// something to read.
func (c *readConn) fill() error {
	var (
		n    int
		rerr error
		buf  *[]byte
	)
	err := c.raw.Read(func(fd uintptr) bool {
		buf = readBufs.Get().(*[]byte)
		for {
			n, rerr = syscall.Read(int(fd), *buf)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			readBufs.Put(buf)
			buf = nil
			return false // wait for the socket
		}
		return true
	})
	switch {
	case err == nil && rerr != nil:
		err = os.NewSyscallError("read", rerr)
	case err == nil && n <= 0:
		err = io.EOF
	}
	if err != nil {
		if buf != nil {
			readBufs.Put(buf)
		}
		return err
	}
	c.buf, c.r, c.w = buf, 0, n
	return nil
}
