package camsim

import (
	"container/heap"
	"time"

	"github.com/pion/rtp"
)

// maxLag is how far behind its timeline a camera may fall before the
// scheduler skips ahead instead of sending every late frame in a burst
// (after the process was suspended, or starved of CPU). It skips to a key
// frame, as an encoder would restart after dropping frames: a frame whose
// reference was never sent would leave a recording no decoder can play,
// which is the simulator's doing, not the recorder's.
const maxLag = time.Second

// slack lets the scheduler send frames due within this much of now in the
// same wake-up, so that cameras whose phases differ by a fraction of a
// millisecond do not each cost a timer.
const slack = time.Millisecond

// schedule paces every camera from one goroutine: a heap ordered by the due
// time of each camera's next frame.
func (s *Server) schedule() {
	defer close(s.done)
	q := make(camQueue, len(s.cams))
	copy(q, s.cams)
	heap.Init(&q)
	for {
		now := s.clk.Now()
		for {
			c := q[0]
			if c.due().After(now.Add(slack)) {
				break
			}
			s.sendFrame(c, now)
			heap.Fix(&q, 0)
		}
		timer := s.clk.After(q[0].due().Sub(now))
		if s.waiting != nil {
			s.waiting()
		}
		select {
		case <-s.stopped:
			return
		case <-timer:
		}
	}
}

// due returns the wall time camera c's next frame is due.
func (c *camera) due() time.Time {
	return c.start.Add(time.Duration(c.next) * frameDur)
}

// sendFrame sends camera c's next frame, or what its fault makes of it,
// and advances c.next.
func (s *Server) sendFrame(c *camera, now time.Time) {
	k := c.next
	if now.Sub(c.due()) > maxLag {
		k = c.clip.nextKey(int64(now.Sub(c.start) / frameDur))
	}
	c.next = k + 1

	c.mu.Lock()
	f := c.fault
	c.mu.Unlock()

	p := c.clip
	n := int64(len(p.frames))
	idx := int(k % n)
	ts := c.tsOffset + uint32(p.frames[idx].dts+(k/n)*p.duration)
	ntp := c.start.Add(time.Duration(k) * frameDur)

	if !f.Freeze {
		c.frozen = -1
	}
	switch {
	case f.Stop, f.Stall:
		return
	case f.Every > 1 && k%int64(f.Every) != 0:
		return
	}
	if f.Freeze {
		if c.frozen < 0 {
			// The GOP of the last frame sent.
			c.frozen = p.keyOf[int((k+n-1)%n)]
		}
		idx = c.frozen
	}

	listening := c.readers.Load() > 0
	pkts := p.frames[idx].pkts
	for i := range pkts {
		seq := c.seq
		c.seq++
		if f.Loss > 0 && s.cfg.Rand.Float64() < f.Loss {
			continue
		}
		if !listening {
			continue
		}
		c.pkt.Header = rtpHeader(pkts[i].marker, seq, ts)
		c.pkt.Payload = pkts[i].data
		// The error is ErrServerStreamClosed during Close; readers
		// that fail are dropped by gortsplib.
		_ = c.stream.WritePacketRTPWithNTP(c.media, &c.pkt, ntp)
		c.lastSeq, c.wrote = seq, true
	}
}

// camQueue is a min-heap of cameras by next due time.
type camQueue []*camera

func (q camQueue) Len() int           { return len(q) }
func (q camQueue) Less(i, j int) bool { return q[i].due().Before(q[j].due()) }
func (q camQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *camQueue) Push(x any)        { *q = append(*q, x.(*camera)) }
func (q *camQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

func rtpHeader(marker bool, seq uint16, ts uint32) rtp.Header {
	return rtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    payloadType,
		SequenceNumber: seq,
		Timestamp:      ts,
	}
}
