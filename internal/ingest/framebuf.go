package ingest

import (
	"math/bits"
	"sync"
)

// Frame buffers are pooled by size class, powers of two from 4 KiB to
// 8 MiB: a frame's Data goes back to the pool once the sink has written it,
// when the sink copies what it keeps (FrameCopier) and no live viewer was
// given the frame. At 25 frames a second per camera this removes a third of
// what ingest allocates, and the zeroing of every new buffer.
const (
	minFrameBufShift = 12
	maxFrameBufShift = 23
)

var frameBufs [maxFrameBufShift - minFrameBufShift + 1]sync.Pool

// frameBufClass returns the pool index for a buffer of at least n bytes,
// or -1 when n is larger than the largest class.
func frameBufClass(n int) int {
	s := bits.Len(uint(n - 1))
	if n <= 1 || s < minFrameBufShift {
		s = minFrameBufShift
	}
	if s > maxFrameBufShift {
		return -1
	}
	return s - minFrameBufShift
}

// getFrameBuf returns an empty buffer with room for n bytes.
func getFrameBuf(n int) []byte {
	c := frameBufClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if v := frameBufs[c].Get(); v != nil {
		return (*v.(*[]byte))[:0]
	}
	return make([]byte, 0, 1<<(c+minFrameBufShift))
}

// putFrameBuf returns b to its pool. Buffers that getFrameBuf did not make
// (whose capacity is not a class size) are left to the garbage collector.
func putFrameBuf(b []byte) {
	c := frameBufClass(cap(b))
	if c < 0 || cap(b) != 1<<(c+minFrameBufShift) {
		return
	}
	b = b[:0]
	frameBufs[c].Put(&b)
}
