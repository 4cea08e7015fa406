package export

import (
	"os"
	"sync"
	"unsafe"
)

// The package file is written with direct I/O where the file system allows
// it (O_DIRECT on Linux): the disk reads each block straight from the
// export's memory, and the kernel does not copy 150 MB into the page cache
// first, which cost about as much CPU as hashing them (docs/benchmarks.md).
// Direct writes must start at aligned file offsets, from aligned memory,
// and be whole aligned blocks, so pkgFile keeps what does not fill one yet
// in an aligned staging buffer. The clip's blocks are laid out by
// pipeCopy so that its data lands exactly after the staged bytes at an
// aligned address: pkgFile copies the few staged bytes (less than one
// alignment unit) in front of the block and writes the block where it is.
// Durability is unchanged: direct writes reach the disk but not
// necessarily its cache, and the fsync before the package is linked is
// still what makes it durable.
//
// Where direct I/O is refused, pkgFile writes through the page cache and
// asks the kernel every few megabytes to start writing back what it has
// (startWriteback), so the final fsync waits for the tail only.
const (
	directAlign = 4096    // offsets, lengths and addresses of direct writes
	stageSize   = 1 << 20 // bytes staged before a direct write of them
	// writesInFlight is how many blocks are written at once: the disk has
	// the next one while the last one's completion is being handled.
	writesInFlight = 2
	// writeBehindEvery is how many bytes are written through the page
	// cache between two write-behind hints.
	writeBehindEvery = 8 << 20
	// cachedWrite is the most written through the page cache at once:
	// single writes of 8 MiB cost the kernel up to ten times the CPU of
	// the same bytes in 1 MiB writes here (docs/benchmarks.md).
	cachedWrite = 1 << 20
)

// pkgFile writes a package file front to back. It is not safe for
// concurrent use.
type pkgFile struct {
	f      *os.File
	fd     uintptr
	direct bool
	off    int64  // bytes written so far
	stage  []byte // when direct: file bytes [off-ns, off); off-ns is aligned
	ns     int
	lent   []lentMem // memory pipeCopyTo lays blocks out in (lend)
	// bytes written straight from lent memory (for tests)
	uncopied int64

	// Lent blocks are written in the background, writesInFlight at
	// most, once one direct write has succeeded (proven).
	proven   bool
	inflight chan struct{}
	writes   sync.WaitGroup
	mu       sync.Mutex
	werr     error // the first background write's error
	took     bool  // the last Write left its block to a background write
	// through the page cache: where the last write-behind hint ended
	started int64
}

// newPkgFile returns a writer of f, which must be empty, using direct I/O
// if the file system allows it.
func newPkgFile(f *os.File) *pkgFile {
	p := &pkgFile{f: f, fd: f.Fd(), inflight: make(chan struct{}, writesInFlight)}
	if setDirect(p.fd, true) == nil {
		p.direct = true
		p.stage = alignedBytes(stageSize)
	}
	return p
}

// alignedBytes returns n bytes starting at a directAlign boundary.
func alignedBytes(n int) []byte {
	b := make([]byte, n+directAlign)
	k := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
	if k != 0 {
		k = directAlign - k
	}
	return b[k : k+n : k+n]
}

// Write writes b at the end of the file. A b that is the data of a block
// from lend, starting at phase(), is written without being copied.
func (p *pkgFile) Write(b []byte) (int, error) {
	if err := p.writeErr(); err != nil {
		return 0, err
	}
	if !p.direct {
		return p.writeCached(b)
	}
	if len(b) >= directAlign {
		if err := p.flushAligned(); err != nil {
			return 0, err
		}
		if l := p.lender(b); l != nil {
			return p.writeLent(l, b)
		}
	}
	n := 0
	for n < len(b) {
		k := copy(p.stage[p.ns:], b[n:])
		p.ns += k
		p.off += int64(k)
		n += k
		if p.ns == len(p.stage) {
			if err := p.flushAligned(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// phase is where the data of a block must start in its memory (from lend)
// to be written without a copy: after as many bytes as are staged, once
// every whole aligned block staged is written.
func (p *pkgFile) phase() int { return int(p.off % directAlign) }

// lentMem is memory lent to the file and what to call when the file is
// done with it (a background write of it ended).
type lentMem struct {
	mem  []byte
	done func()
}

// lend registers aligned memory (alignedBytes) in which the caller lays
// out blocks starting at phase(), which Write then writes without copying.
// A Write of such a block may leave it to a background write (tookBlock
// says so); done is called once that write has ended, and the memory is
// not the caller's to change before. All of it is the caller's again after
// wait and unlend.
func (p *pkgFile) lend(mem []byte, done func()) { p.lent = append(p.lent, lentMem{mem, done}) }

// unlend forgets every memory lend registered.
func (p *pkgFile) unlend() { p.lent = nil }

// tookBlock reports whether the last Write left its block to a background
// write, whose end calls the block's done.
func (p *pkgFile) tookBlock() bool {
	t := p.took
	p.took = false
	return t
}

// wait waits for the background writes and returns the first one's error.
func (p *pkgFile) wait() error {
	p.writes.Wait()
	return p.writeErr()
}

func (p *pkgFile) writeErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.werr
}

// lender returns the lent memory of which b is the data at the current
// phase, or nil.
func (p *pkgFile) lender(b []byte) *lentMem {
	for i, l := range p.lent {
		if p.ns < len(l.mem) && &l.mem[p.ns] == &b[0] && p.ns+len(b) <= len(l.mem) {
			return &p.lent[i]
		}
	}
	return nil
}

// writeLent writes b, which starts at l.mem[p.ns]: the staged bytes are
// copied in front of it, what is left past the last aligned boundary is
// staged and the aligned whole is written from l.mem, in the background
// once direct writes are known to work.
func (p *pkgFile) writeLent(l *lentMem, b []byte) (int, error) {
	at := p.off - int64(p.ns)
	end := p.ns + len(b)
	copy(l.mem, p.stage[:p.ns])
	whole := end &^ (directAlign - 1)
	p.ns = copy(p.stage, l.mem[whole:end])
	p.off += int64(len(b))
	p.uncopied += int64(len(b))
	if whole == 0 {
		return len(b), nil
	}
	if p.proven && l.done != nil {
		p.inflight <- struct{}{}
		p.writes.Add(1)
		p.took = true
		go func(mem []byte, done func()) {
			defer p.writes.Done()
			if _, err := p.f.WriteAt(mem, at); err != nil {
				p.mu.Lock()
				if p.werr == nil {
					p.werr = err
				}
				p.mu.Unlock()
			}
			<-p.inflight
			done()
		}(l.mem[:whole], l.done)
		return len(b), nil
	}
	if err := p.writeAt(l.mem[:whole], at); err != nil {
		return 0, err
	}
	p.proven = p.direct
	return len(b), nil
}

// flushAligned writes the whole aligned blocks staged and keeps the rest.
func (p *pkgFile) flushAligned() error {
	whole := p.ns &^ (directAlign - 1)
	if whole == 0 {
		return nil
	}
	if err := p.writeAt(p.stage[:whole], p.off-int64(p.ns)); err != nil {
		return err
	}
	p.ns = copy(p.stage, p.stage[whole:p.ns])
	return nil
}

// writeAt writes b at off directly; if the file system refuses the direct
// write, the file is written through the page cache from then on.
func (p *pkgFile) writeAt(b []byte, off int64) error {
	_, err := p.f.WriteAt(b, off)
	if err != nil && p.direct && directRefused(err) && setDirect(p.fd, false) == nil {
		// What is staged follows by the same way (writeCached, Sync).
		p.direct = false
		_, err = p.f.WriteAt(b, off)
	}
	return err
}

// writeStaged writes what is staged through the page cache.
func (p *pkgFile) writeStaged() error {
	if p.ns == 0 {
		return nil
	}
	if _, err := p.f.WriteAt(p.stage[:p.ns], p.off-int64(p.ns)); err != nil {
		return err
	}
	p.ns = 0
	return nil
}

// writeCached writes b through the page cache, in pieces of cachedWrite
// bytes at most, asking for writeback every writeBehindEvery bytes.
func (p *pkgFile) writeCached(b []byte) (int, error) {
	if err := p.writeStaged(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(b) {
		k, err := p.f.WriteAt(b[n:min(len(b), n+cachedWrite)], p.off)
		n += k
		p.off += int64(k)
		if p.off-p.started >= writeBehindEvery {
			startWriteback(p.fd, p.started, p.off-p.started)
			p.started = p.off
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Sync writes what is staged and fsyncs the file. The tail that does not
// fill an aligned block is written through the page cache (direct I/O is
// turned off for it).
func (p *pkgFile) Sync() error {
	if err := p.wait(); err != nil {
		return err
	}
	if p.direct {
		if err := p.flushAligned(); err != nil {
			return err
		}
		if p.ns > 0 {
			if err := setDirect(p.fd, false); err != nil {
				return err
			}
			p.direct = false
		}
	}
	if err := p.writeStaged(); err != nil {
		return err
	}
	return p.f.Sync()
}
