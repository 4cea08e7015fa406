package ingest

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
)

// socketPair returns a connected pair: a non-blocking end for a poller
// and the other end for the test to write to.
func socketPair(t *testing.T) (polled, peer int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return fds[0], fds[1]
}

// collector records what a member is fed.
type collector struct {
	mu  sync.Mutex
	buf bytes.Buffer
	err error // returned by feed when set
}

func (c *collector) feed(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(b)
	return c.err
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len()
}

// Many sockets on the pollers: every byte written to each reaches its own
// feed, in order, including more than one read buffer's worth at once;
// a closed peer ends its member with io.EOF; and the pollers' goroutines
// end with their last member.
func TestPollersFeedEveryByte(t *testing.T) {
	const n = 20
	var (
		peers []int
		cols  []*collector
		ms    []*pollMember
		want  [][]byte
	)
	for i := range n {
		fd, peer := socketPair(t)
		c := &collector{}
		m := newPollMember(fd, c.feed, nil)
		pollers.add(m)
		peers, cols, ms = append(peers, peer), append(cols, c), append(ms, m)
		size := 1000 + i*997
		if i == 0 {
			size = pollBufSize + 12345 // more than one read
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(i + j*7)
		}
		want = append(want, b)
	}
	for i, peer := range peers {
		// A socket pair's buffer may not take the large one at once:
		// write from a goroutine, as a camera's kernel would keep sending.
		go func() {
			b := want[i]
			for len(b) > 0 {
				k, err := syscall.Write(peer, b)
				if err != nil {
					return
				}
				b = b[k:]
			}
		}()
	}
	for i, c := range cols {
		waitFor(t, "every byte", func() bool { return c.len() >= len(want[i]) })
		c.mu.Lock()
		if !bytes.Equal(c.buf.Bytes(), want[i]) {
			t.Errorf("member %d: fed bytes differ from those written", i)
		}
		c.mu.Unlock()
	}
	syscall.Close(peers[3])
	select {
	case err := <-ms[3].done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("closed peer: %v, want EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a closed peer did not end its member")
	}
	for i, m := range ms {
		if i != 3 {
			m.stop()
		}
	}
	waitFor(t, "the pollers to stop", func() bool {
		pollers.mu.Lock()
		defer pollers.mu.Unlock()
		for _, p := range pollers.list {
			p.mu.Lock()
			running := p.running
			p.mu.Unlock()
			if running {
				return false
			}
		}
		return true
	})
}

// A feed error ends the member with that error; after stop returns, feed is
// never called again even though bytes keep arriving.
func TestPollMemberStopAndFeedError(t *testing.T) {
	fd, peer := socketPair(t)
	c := &collector{err: errors.New("bad stream")}
	m := newPollMember(fd, c.feed, nil)
	pollers.add(m)
	syscall.Write(peer, []byte("x"))
	select {
	case err := <-m.done:
		if err == nil || err.Error() != "bad stream" {
			t.Fatalf("done: %v, want the feed's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a feed error did not end the member")
	}

	fd2, peer2 := socketPair(t)
	var mu sync.Mutex
	stopped := false
	var late int
	m2 := newPollMember(fd2, func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			late++
		}
		return nil
	}, func() error {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			late++
		}
		return nil
	})
	p := &poller{} // one poller for m2 and om below, so om's ticks are m2's
	p.add(m2)
	syscall.Write(peer2, []byte("before"))
	m2.stop()
	mu.Lock()
	stopped = true
	mu.Unlock()
	syscall.Write(peer2, []byte("after"))
	// Let the pollers run a few ticks with bytes waiting.
	other, otherPeer := socketPair(t)
	oc := &collector{}
	om := newPollMember(other, oc.feed, nil)
	p.add(om)
	defer om.stop()
	for range 3 {
		syscall.Write(otherPeer, []byte("tick"))
		k := oc.len()
		waitFor(t, "a tick", func() bool { return oc.len() > k })
	}
	mu.Lock()
	defer mu.Unlock()
	if late != 0 {
		t.Fatalf("feed called %d times after stop returned", late)
	}
}

// onePoller makes every camera the test starts share one poller.
func onePoller(t *testing.T) {
	pollers.mu.Lock()
	saved := pollers.list
	pollers.list = []*poller{{}}
	pollers.mu.Unlock()
	t.Cleanup(func() {
		pollers.mu.Lock()
		pollers.list = saved
		pollers.mu.Unlock()
	})
}

// waitingSink is a Waiter whose key frames would wait, and do: WriteFrame
// of a key frame blocks until released.
type waitingSink struct {
	recSink
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (w *waitingSink) WouldWait(f *media.Frame) bool { return f.Key }

func (w *waitingSink) WriteFrame(f *media.Frame) error {
	if f.Key {
		w.once.Do(func() { close(w.entered) })
		<-w.release
	}
	return w.recSink.WriteFrame(f)
}

// A sink that waits to start a segment holds up only its own camera: the
// other camera on the same poller keeps recording, and once the sink
// resumes, the waiting camera's frames are all there, in order.
func TestWaitingSinkHoldsUpOnlyItsCamera(t *testing.T) {
	onePoller(t)
	slowCam := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	fastCam := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	slow := &waitingSink{entered: make(chan struct{}), release: make(chan struct{})}
	fast := &recSink{}
	slowSup := startSupervisor(t, Camera{ID: "slow", URL: slowCam.url(), ReadTimeout: time.Minute}, slow, Options{})
	startSupervisor(t, Camera{ID: "fast", URL: fastCam.url(), ReadTimeout: time.Minute}, fast, Options{})
	slowCam.waitPlay()
	fastCam.waitPlay()
	slowSnd, fastSnd := slowCam.sender(media.CodecH264), fastCam.sender(media.CodecH264)
	streamUntil(t, slowSnd, "the slow sink to block", func() bool {
		select {
		case <-slow.entered:
			return true
		default:
			return false
		}
	})
	slowSnd.send(100) // queued for the slow camera's goroutine
	streamUntil(t, fastSnd, "the other camera to record 100 frames", func() bool { return len(fast.frames()) >= 100 })
	close(slow.release)
	waitFor(t, "the slow camera to catch up", func() bool {
		n := len(slow.frames())
		return n >= 100 && uint64(n) == slowSup.State().Frames
	})
	if st := slowSup.State(); st.Overruns != 0 || st.Breaks != 0 {
		t.Fatalf("slow camera %+v: want no overrun or break", st)
	}
	fr := slow.frames()
	for i := 1; i < len(fr); i++ {
		if fr[i].Wall-fr[i-1].Wall != clip.FrameDuration {
			t.Fatalf("slow camera frame %d: Wall step %d", i, fr[i].Wall-fr[i-1].Wall)
		}
	}
}
