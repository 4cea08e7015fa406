package export

import (
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// The clip copy is a three-stage pipeline over a few large blocks, so the
// two cores of a small recorder both work: the calling goroutine reads
// (decrypts and muxes) the next block while one goroutine hashes the
// previous one and another writes it (the ZIP's CRC-32 and the write
// system call). SHA-256 of one stream cannot be split, and alone runs at
// about 1.3 GB/s on one core here, so the other stages must happen beside
// it, not after it. docs/benchmarks.md has the figures.
const (
	pipeBlock  = 8 << 20 // bytes per block: one write system call each
	pipeBlocks = 4       // blocks in flight
)

type pipeBuf struct {
	b    []byte
	n    int
	refs atomic.Int32 // stages still to see the block
}

// pipeCopy copies r to w until r ends, writing everything it copies to h
// too, in the same order; it returns the bytes copied. It stops at the
// first error of r or w. h must not fail (a hash.Hash does not).
func pipeCopy(w io.Writer, h hash.Hash, r io.Reader) (int64, error) {
	return pipeCopyTo(w, h, r, nil)
}

// blockMems holds the blocks' memory between copies (*[]byte, aligned,
// directAlign+pipeBlock bytes): 24 MiB made afresh for every clip cost
// the first block about 20 ms of page faults and zeroing.
var blockMems = sync.Pool{New: func() any { b := alignedBytes(directAlign + pipeBlock); return &b }}

// pipeCopyTo is pipeCopy where w ends in the package file f (nil: it does
// not): when f is written directly, the blocks are laid out in memory
// lent to it, so that each one's bytes reach f as one slice it writes
// without copying.
func pipeCopyTo(w io.Writer, h hash.Hash, r io.Reader, f *pkgFile) (int64, error) {
	free := make(chan *pipeBuf, pipeBlocks)
	lend := f != nil && f.direct
	ph := 0
	if lend {
		ph = f.phase()
		defer f.unlend()
	}
	release := func(p *pipeBuf) {
		if p.refs.Add(-1) == 0 {
			free <- p
		}
	}
	var mems [pipeBlocks]*[]byte
	defer func() {
		for _, m := range mems {
			blockMems.Put(m)
		}
	}()
	for i := range mems {
		mems[i] = blockMems.Get().(*[]byte)
		mem := *mems[i]
		p := &pipeBuf{b: mem[:pipeBlock]}
		if lend {
			f.lend(mem, func() { release(p) })
			p.b = mem[ph : ph+pipeBlock]
		}
		free <- p
	}
	// Sends to these never block: at most pipeBlocks blocks are out.
	toHash := make(chan *pipeBuf, pipeBlocks)
	toWrite := make(chan *pipeBuf, pipeBlocks)
	var (
		wg     sync.WaitGroup
		werr   error
		failed = make(chan struct{})
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for p := range toHash {
			h.Write(p.b[:p.n])
			release(p)
		}
	}()
	go func() {
		defer wg.Done()
		for p := range toWrite {
			if werr == nil {
				if _, werr = w.Write(p.b[:p.n]); werr != nil {
					close(failed)
				}
			}
			if !lend || !f.tookBlock() {
				release(p) // else when its background write ends
			}
		}
	}()
	var (
		n    int64
		rerr error
	)
read:
	for {
		var p *pipeBuf
		select {
		case <-failed:
			break read
		default:
		}
		select {
		case p = <-free:
		case <-failed:
			break read
		}
		k, err := io.ReadFull(r, p.b)
		if k > 0 {
			p.n = k
			p.refs.Store(2)
			n += int64(k)
			toHash <- p
			toWrite <- p
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(toHash)
	close(toWrite)
	wg.Wait()
	if lend {
		// The blocks go back to the pool once written.
		if err := f.wait(); err != nil && werr == nil {
			werr = err
		}
	}
	if rerr != nil {
		return n, rerr
	}
	return n, werr
}
