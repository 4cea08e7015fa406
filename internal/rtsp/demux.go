package rtsp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/pion/rtp"
)

const (
	// maxHeader bounds an RTSP message's start line and headers,
	// including the blank line that ends them.
	maxHeader = 64 << 10
	// maxBody bounds an RTSP message's body; pkg/base refuses larger ones.
	maxBody = 128 << 10
	// releaseAbove is the carry buffer capacity past which the buffer is
	// dropped once emptied, so idle cameras do not pin large buffers.
	releaseAbove = 8 << 10
)

var headerEnd = []byte("\r\n\r\n")

// Demuxer splits the byte stream of an RTSP connection after PLAY into
// interleaved frames and RTSP messages. It keeps at most one incomplete
// item between calls (copying only that remainder), and allocates nothing
// per RTP packet. The carry buffer holding the remainder grows to the
// largest incomplete item (at most 4+65535 bytes for a frame, 64 KiB of
// header plus 128 KiB of body for a message) and is dropped when it has
// grown past 8 KiB and is emptied.
type Demuxer struct {
	RTPChannel, RTCPChannel int
	// OnRTP gets each RTP packet of RTPChannel, parsed into a packet the
	// Demuxer reuses: pkt, pkt.Payload and every slice in it are valid only
	// during the call (they point into the caller's buffer or the Demuxer's
	// carry buffer).
	OnRTP func(pkt *rtp.Packet)
	// OnRTCP gets each RTCP frame of RTCPChannel, raw (compound packet),
	// valid only during the call.
	OnRTCP func(b []byte)
	// OnResponse gets RTSP responses (keepalive answers); OnRequest gets
	// requests the server sent (answer with Conn.Respond). Either may be
	// nil. Frames of other channels are skipped.
	OnResponse func(res *base.Response)
	OnRequest  func(req *base.Request)
	// OnBadPacket, if set, is told about an RTP frame that does not parse,
	// and about an RTSP message that is framed (headers end, Content-Length
	// holds) but does not parse. The item is skipped; the stream goes on.
	OnBadPacket func(err error)

	pkt      rtp.Packet
	carry    []byte // the incomplete item, from its first byte
	want     int    // carry's complete size once known, else 0
	carryPos int64  // stream offset of carry[0]
	pos      int64  // stream offset of the next Feed's first byte
	err      error  // sticky: the stream cannot be resynchronized
}

// Feed parses b (valid only during the call). It returns an error, and
// must not be called again, when the stream cannot be resynchronized: a
// byte that starts neither '$' nor an RTSP message, an RTSP message header
// over 64 KiB, or a Content-Length that is not a number up to 128 KiB. An
// interleaved frame's length is at most 65535 by construction.
func (d *Demuxer) Feed(b []byte) error {
	if d.err != nil {
		return d.err
	}
	i := 0
	for len(d.carry) > 0 && i < len(b) {
		n, err := d.fill(b[i:])
		i += n
		if err != nil {
			return d.fail(err)
		}
		if d.want > 0 && len(d.carry) == d.want {
			d.dispatch(d.carry, d.carryPos)
			d.release()
		}
	}
	for i < len(b) {
		rest := b[i:]
		size, err := itemSize(rest, d.pos+int64(i))
		if err != nil {
			return d.fail(err)
		}
		if size == 0 || size > len(rest) {
			d.keep(rest, size, d.pos+int64(i))
			break
		}
		d.dispatch(rest[:size], d.pos+int64(i))
		i += size
	}
	d.pos += int64(len(b))
	return nil
}

func (d *Demuxer) fail(err error) error {
	d.err = err
	d.carry = nil
	d.want = 0
	return err
}

// keep copies the incomplete item rest into the carry buffer; size is its
// complete size if known, else 0.
func (d *Demuxer) keep(rest []byte, size int, pos int64) {
	need := max(size, len(rest))
	if cap(d.carry) < need {
		d.carry = make([]byte, 0, need)
	}
	d.carry = append(d.carry[:0], rest...)
	d.want = size
	d.carryPos = pos
}

// release empties the carry buffer, dropping it if it grew large.
func (d *Demuxer) release() {
	if cap(d.carry) > releaseAbove {
		d.carry = nil
	} else {
		d.carry = d.carry[:0]
	}
	d.want = 0
}

// fill moves bytes of b into the carry buffer, up to the end of the carried
// item, learning its size on the way. It returns how many bytes it took.
func (d *Demuxer) fill(b []byte) (int, error) {
	used := 0
	if d.want == 0 {
		if d.carry[0] == '$' {
			used = min(4-len(d.carry), len(b))
			d.carry = append(d.carry, b[:used]...)
			if len(d.carry) < 4 {
				return used, nil
			}
			d.grow(4 + int(binary.BigEndian.Uint16(d.carry[2:4])))
		} else {
			n, found := headerSpan(d.carry, b)
			if !found {
				if len(d.carry)+len(b) >= maxHeader {
					return 0, headerTooLong(d.carryPos)
				}
				d.carry = append(d.carry, b...)
				return len(b), nil
			}
			d.carry = append(d.carry, b[:n]...)
			used = n
			cl, err := contentLength(d.carry, d.carryPos)
			if err != nil {
				return used, err
			}
			d.grow(len(d.carry) + cl)
		}
		if len(d.carry) == d.want {
			return used, nil
		}
	}
	n := min(d.want-len(d.carry), len(b)-used)
	d.carry = append(d.carry, b[used:used+n]...)
	return used + n, nil
}

// grow records the carried item's size and makes room for all of it.
func (d *Demuxer) grow(size int) {
	d.want = size
	if cap(d.carry) < size {
		c := make([]byte, len(d.carry), size)
		copy(c, d.carry)
		d.carry = c
	}
}

// headerSpan finds the end of an RTSP header that starts in carry (which
// holds no complete header) and goes on in b. It returns how many bytes of
// b complete the header, within the 64 KiB limit.
func headerSpan(carry, b []byte) (int, bool) {
	for k := 1; k <= 3 && k <= len(b); k++ {
		if bytes.HasSuffix(carry, headerEnd[:4-k]) && bytes.HasPrefix(b, headerEnd[4-k:]) {
			return k, true
		}
	}
	room := maxHeader - len(carry)
	if room > len(b) {
		room = len(b)
	}
	if room < 0 {
		room = 0
	}
	if j := bytes.Index(b[:room], headerEnd); j >= 0 {
		return j + 4, true
	}
	return 0, false
}

// itemSize returns the size of the item at the start of b, or 0 when b
// holds too little to tell; pos is b's stream offset, for errors.
func itemSize(b []byte, pos int64) (int, error) {
	c := b[0]
	if c == '$' {
		if len(b) < 4 {
			return 0, nil
		}
		return 4 + int(binary.BigEndian.Uint16(b[2:4])), nil
	}
	if c < 'A' || c > 'Z' {
		return 0, fmt.Errorf("rtsp: byte 0x%02x at stream offset %d starts neither an interleaved frame ('$') nor an RTSP message", c, pos)
	}
	j := bytes.Index(b[:min(len(b), maxHeader)], headerEnd)
	if j < 0 {
		if len(b) >= maxHeader {
			return 0, headerTooLong(pos)
		}
		return 0, nil
	}
	cl, err := contentLength(b[:j+4], pos)
	if err != nil {
		return 0, err
	}
	return j + 4 + cl, nil
}

func headerTooLong(pos int64) error {
	return fmt.Errorf("rtsp: the RTSP message at stream offset %d has a header over %d bytes", pos, maxHeader)
}

// contentLength reads the Content-Length of a complete RTSP header; none
// means 0.
func contentLength(h []byte, pos int64) (int, error) {
	cl, seen := 0, false
	for len(h) > 0 {
		line := h
		if j := bytes.Index(h, headerEnd[:2]); j >= 0 {
			line, h = h[:j], h[j+2:]
		} else {
			h = nil
		}
		k := bytes.IndexByte(line, ':')
		if k < 0 || !strings.EqualFold(strings.TrimSpace(string(line[:k])), "Content-Length") {
			continue
		}
		v := strings.TrimSpace(string(line[k+1:]))
		if seen {
			return 0, fmt.Errorf("rtsp: the RTSP message at stream offset %d has two Content-Length headers", pos)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxBody {
			return 0, fmt.Errorf("rtsp: the RTSP message at stream offset %d has Content-Length %q, not a number of bytes up to %d", pos, v, maxBody)
		}
		cl, seen = n, true
	}
	return cl, nil
}

// dispatch hands a complete item, at stream offset pos, to its callback.
func (d *Demuxer) dispatch(item []byte, pos int64) {
	if item[0] == '$' {
		ch, p := int(item[1]), item[4:]
		switch {
		case ch == d.RTPChannel:
			if d.OnRTP == nil {
				return
			}
			if err := d.pkt.Unmarshal(p); err != nil {
				if d.OnBadPacket != nil {
					d.OnBadPacket(fmt.Errorf("rtsp: RTP frame of %d bytes at stream offset %d on channel %d: %w", len(p), pos, ch, err))
				}
				return
			}
			d.OnRTP(&d.pkt)
			d.pkt.Payload = nil
		case ch == d.RTCPChannel:
			if d.OnRTCP != nil {
				d.OnRTCP(p)
			}
		}
		return
	}
	if bytes.HasPrefix(item, []byte("RTSP/")) {
		if d.OnResponse == nil {
			return
		}
		var res base.Response
		if err := res.Unmarshal(bufio.NewReader(bytes.NewReader(item))); err != nil {
			d.bad(pos, err)
			return
		}
		d.OnResponse(&res)
		return
	}
	if d.OnRequest == nil {
		return
	}
	var req base.Request
	if err := req.Unmarshal(bufio.NewReader(bytes.NewReader(item))); err != nil {
		d.bad(pos, err)
		return
	}
	d.OnRequest(&req)
}

func (d *Demuxer) bad(pos int64, err error) {
	if d.OnBadPacket != nil {
		d.OnBadPacket(fmt.Errorf("rtsp: RTSP message at stream offset %d: %w", pos, err))
	}
}
