package ingest

import (
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// pollInterval is how often a poller reads every socket it serves. One
// wake-up of one goroutine reads a tick's worth of bytes from each of many
// cameras, where a goroutine per camera would be woken for every burst of
// packets (several times per frame). Measured on loopback with 64
// simulated 2 Mbit/s cameras (docs/benchmarks.md, "Ingest"): reading and
// discarding cost 4.8 CPU-seconds per stream-hour with a goroutine per
// camera or a 20 ms tick, 3.7 with 40 ms, 2.4 with 100 ms and the same
// with 200 ms, the kernel's copy of the bytes being what remains. 100 ms
// is also as much as a live viewer's latency can take, and what a
// socket's receive buffer holds easily (25 KiB at 2 Mbit/s).
const pollInterval = 100 * time.Millisecond

// pollBufSize is the most one read call takes from a socket; a socket
// holding more is read again at once.
const pollBufSize = 256 << 10

// pollers serve every camera recorded over TCP: a camera is added to the
// poller with the fewest cameras. There are twice as many as the CPUs the
// process may use, at least four: a sink that blocks without saying so
// beforehand (Waiter; a write into a full page cache) stalls the cameras of
// its poller, whose bytes
// wait in the kernel's socket buffers and then in the cameras, so the
// fewer cameras a poller has, the fewer wait. Pollers wake together, so
// more of them cost little.
var pollers pollSet

type pollSet struct {
	mu   sync.Mutex
	list []*poller
}

// add starts reading m on the least loaded poller.
func (ps *pollSet) add(m *pollMember) {
	ps.mu.Lock()
	if ps.list == nil {
		n := max(4, 2*runtime.GOMAXPROCS(0))
		for range n {
			ps.list = append(ps.list, &poller{})
		}
	}
	best := ps.list[0]
	for _, p := range ps.list[1:] {
		if p.count() < best.count() {
			best = p
		}
	}
	ps.mu.Unlock()
	best.add(m)
}

// poller reads its members' sockets every pollInterval from one goroutine,
// which runs only while the poller has members.
type poller struct {
	mu      sync.Mutex
	members []*pollMember
	running bool
}

func (p *poller) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.members)
}

func (p *poller) add(m *pollMember) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m.p = p
	p.members = append(p.members, m)
	if !p.running {
		p.running = true
		go p.run()
	}
}

func (p *poller) drop(m *pollMember) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.members {
		if x == m {
			p.members = append(p.members[:i], p.members[i+1:]...)
			break
		}
	}
}

func (p *poller) run() {
	buf := make([]byte, pollBufSize)
	var list []*pollMember
	for {
		p.mu.Lock()
		if len(p.members) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		list = append(list[:0], p.members...)
		p.mu.Unlock()
		for _, m := range list {
			m.service(buf)
		}
		clear(list)
		// Every poller wakes on the same multiples of pollInterval, and
		// nothing else of a recording camera needs a timer (its read
		// timeout and keepalive are checked here): the fewer distinct
		// wake-ups, the less the Go runtime spins up after each
		// (sysmon polls at 20 µs for a while after every one).
		now := time.Now()
		time.Sleep(now.Truncate(pollInterval).Add(pollInterval).Sub(now))
	}
}

// pollMember is one camera's socket on a poller.
type pollMember struct {
	fd int // non-blocking, outside Go's network poller (rtsp.Conn.Detach)
	// feed takes the bytes read; they are valid only during the call. An
	// error ends the member.
	feed func(b []byte) error
	// check, if set, runs once a tick after the socket was read (the
	// camera's read timeout and keepalive). An error ends the member.
	check func() error
	// done receives why reading ended (io.EOF when the camera closed the
	// connection), once; it is not sent to after stop.
	done chan error

	p    *poller
	mu   sync.Mutex // held while the poller services the member
	gone bool
}

func newPollMember(fd int, feed func([]byte) error, check func() error) *pollMember {
	return &pollMember{fd: fd, feed: feed, check: check, done: make(chan error, 1)}
}

// service reads everything the socket holds and feeds it, then runs check.
func (m *pollMember) service(buf []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return
	}
	if m.read(buf) && m.check != nil {
		if err := m.check(); err != nil {
			m.end(err)
		}
	}
}

// read reads and feeds until the socket is empty. It reports false if it
// ended the member.
func (m *pollMember) read(buf []byte) bool {
	for {
		n, err := syscall.Read(m.fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if n > 0 {
			if ferr := m.feed(buf[:n]); ferr != nil {
				m.end(ferr)
				return false
			}
		}
		switch {
		case err == syscall.EAGAIN:
			return true
		case err != nil:
			m.end(os.NewSyscallError("read", err))
			return false
		case n == 0:
			m.end(io.EOF)
			return false
		case n < len(buf):
			return true
		}
	}
}

// end stops reading and reports why. Called with mu held.
func (m *pollMember) end(err error) {
	m.gone = true
	m.done <- err
	m.p.drop(m) // the poller's list is not locked while it services members
}

// stop removes m from its poller. When stop returns, m's feed is not
// running and will not be called again.
func (m *pollMember) stop() {
	m.mu.Lock()
	wasGone := m.gone
	m.gone = true
	m.mu.Unlock()
	if !wasGone {
		m.p.drop(m)
	}
}
