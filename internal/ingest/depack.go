package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gwanje/gwanje/internal/media"
)

// depacketizer reassembles the NAL units of RTP packets (RFC 6184 for
// H.264, RFC 7798 for H.265) into one access unit, copying each payload
// byte once into a buffer it owns: it keeps no reference to a packet after
// add returns, so the caller may reuse the packet's memory at once.
//
// The buffer holds the access unit in AVCC form, each NAL unit preceded by
// its 4-byte big-endian length, so a frame's Data is a copy of it when no
// NAL unit is removed. A fragmented NAL unit (FU-A, FU) is appended
// fragment by fragment behind a length that is written when its end
// fragment arrives. The buffer and the list of NAL-unit offsets are reused
// from one access unit to the next; after a large one (a key frame) the
// buffer goes back to the frame-buffer pools, so an idle camera does not
// pin a key frame's worth of memory.
//
// A depacketizer knows nothing of timestamps, marker bits or sequence
// numbers: the Pipeline decides where access units end and what loss means.
type depacketizer struct {
	codec    media.Codec
	maxBytes int // the buffer never grows beyond this
	maxNALUs int // nor holds more complete NAL units than this

	buf  []byte // complete NAL units in AVCC form, then the open fragmented one
	offs []int  // offset in buf of each complete NAL unit's length prefix
	fuAt int    // offset in buf of the open fragmented NAL unit's length prefix, or -1

	// synced is false from reset until a packet that is not the
	// continuation of a fragmented NAL unit arrives: until then a
	// continuation fragment is the tail of a NAL unit whose start came
	// before the stream was joined (or before a loss), and is ignored.
	synced bool

	split []byte // scratch for NAL units that carry Annex-B start codes
}

// Errors of depacketizer.add. The pipeline turns them into its own, with
// the packet's sequence number and timestamp.
var (
	// errOrphan: a continuation fragment before any start since the last
	// reset (the stream was joined mid-unit, or the start was lost).
	errOrphan = errors.New("fragment without a start since the stream was joined")
)

// tooLargeError reports an access unit beyond maxBytes (bytes > 0) or
// maxNALUs (nalus > 0).
type tooLargeError struct{ bytes, nalus int }

func (e *tooLargeError) Error() string {
	if e.nalus > 0 {
		return fmt.Sprintf("more than the limit of NAL units (%d)", e.nalus)
	}
	return fmt.Sprintf("%d bytes", e.bytes)
}

// RTP payload structures (RFC 6184 §5.2, RFC 7798 §4.4): the NAL unit
// types that are not NAL units.
const (
	h264STAPA  = 24
	h264STAPB  = 25
	h264MTAP16 = 26
	h264MTAP24 = 27
	h264FUA    = 28
	h264FUB    = 29
	h265AP     = 48
	h265FU     = 49
	h265PACI   = 50
)

func newDepacketizer(codec media.Codec, maxBytes, maxNALUs int) *depacketizer {
	return &depacketizer{codec: codec, maxBytes: maxBytes, maxNALUs: maxNALUs, fuAt: -1}
}

// pending reports whether any byte of an access unit is buffered.
func (d *depacketizer) pending() bool { return len(d.buf) > 0 }

// units returns the number of complete NAL units buffered.
func (d *depacketizer) units() int { return len(d.offs) }

// fragmentOpen reports whether a fragmented NAL unit awaits its end.
func (d *depacketizer) fragmentOpen() bool { return d.fuAt >= 0 }

// buffered returns the bytes held for the access unit in assembly.
func (d *depacketizer) buffered() int { return len(d.buf) }

// avcc returns the complete NAL units in AVCC form. Valid until the next
// add, next or reset.
func (d *depacketizer) avcc() []byte {
	if d.fuAt >= 0 {
		return d.buf[:d.fuAt]
	}
	return d.buf
}

// nalus appends to dst a slice of each complete NAL unit, without its
// length prefix, and returns it. The slices alias the buffer: they are
// valid until the next add, next or reset.
func (d *depacketizer) nalus(dst [][]byte) [][]byte {
	for _, o := range d.offs {
		n := int(binary.BigEndian.Uint32(d.buf[o:]))
		dst = append(dst, d.buf[o+4:o+4+n])
	}
	return dst
}

// take hands over the buffer, which holds the complete access unit in AVCC
// form, for a frame's Data, saving a copy of every frame. A buffer of the
// same size class takes its place, unless the unit was large (a key frame),
// whose buffer would otherwise stay pinned (release). Only with no
// fragment open; call next after it.
func (d *depacketizer) take() []byte {
	b := d.buf
	d.buf = nil
	if cap(b) <= releaseBytes {
		d.buf = getFrameBuf(cap(b))
	}
	return b
}

// next forgets the complete NAL units once they were handed over. It must
// not be called with a fragmented NAL unit open.
func (d *depacketizer) next() {
	d.buf = d.buf[:0]
	d.offs = d.offs[:0]
	d.fuAt = -1
	d.release()
}

// reset discards everything buffered, as after loss or invalid input: a
// continuation fragment is then ignored until the stream is in step again.
func (d *depacketizer) reset() {
	d.next()
	d.synced = false
}

// release gives a buffer grown for a large access unit back to the pools.
func (d *depacketizer) release() {
	if cap(d.buf) > releaseBytes {
		putFrameBuf(d.buf)
		d.buf = nil
	}
	if cap(d.split) > releaseBytes {
		d.split = nil
	}
}

// grow makes room for n more bytes, within maxBytes.
func (d *depacketizer) grow(n int) error {
	need := len(d.buf) + n
	if need > d.maxBytes {
		return &tooLargeError{bytes: need}
	}
	if need <= cap(d.buf) {
		return nil
	}
	nb := getFrameBuf(min(max(need, 2*cap(d.buf)), max(need, d.maxBytes)))
	nb = append(nb, d.buf...)
	putFrameBuf(d.buf)
	d.buf = nb
	return nil
}

// add depacketizes one RTP payload (not empty) into the access unit. On
// error the caller discards the access unit (reset); errOrphan alone means
// the packet is to be ignored.
func (d *depacketizer) add(payload []byte) error {
	if d.codec == media.CodecH264 {
		return d.addH264(payload)
	}
	return d.addH265(payload)
}

func (d *depacketizer) addH264(p []byte) error {
	switch typ := p[0] & 0x1f; typ {
	case h264FUA:
		if len(p) < 2 {
			return errors.New("FU-A packet of 1 byte, without its FU header")
		}
		start, end := p[1]&0x80 != 0, p[1]&0x40 != 0
		if !start {
			return d.fragment(p[2:], end)
		}
		// RFC 6184 forbids start and end in one FU-A, but some cameras
		// send small NAL units so: it is a whole NAL unit.
		return d.startFragment([]byte{p[0]&0xe0 | p[1]&0x1f}, p[2:], end, "FU-A")
	case h264STAPA:
		return d.aggregate(p[1:], "STAP-A", true)
	case h264STAPB, h264MTAP16, h264MTAP24, h264FUB:
		d.synced = true
		return fmt.Errorf("H.264 RTP packet type %d (STAP-B, MTAP or FU-B, packetization mode 2 only) is not supported", typ)
	default:
		return d.single(p)
	}
}

func (d *depacketizer) addH265(p []byte) error {
	if len(p) < 2 {
		return fmt.Errorf("H.265 RTP payload of %d byte, shorter than a NAL unit header", len(p))
	}
	switch typ := (p[0] >> 1) & 0x3f; typ {
	case h265FU:
		if len(p) < 3 {
			return errors.New("FU packet of 2 bytes, without its FU header")
		}
		start, end := p[2]&0x80 != 0, p[2]&0x40 != 0
		if !start {
			return d.fragment(p[3:], end)
		}
		if end {
			return errors.New("FU packet with both the start and the end bit set")
		}
		return d.startFragment([]byte{p[0]&0x81 | (p[2]&0x3f)<<1, p[1]}, p[3:], false, "FU")
	case h265AP:
		return d.aggregate(p[2:], "AP", false)
	case h265PACI:
		return errors.New("H.265 RTP packet type 50 (PACI) is not supported")
	default:
		return d.single(p)
	}
}

// openCheck returns the error for a packet (what, kind) that is not the
// continuation of the fragmented NAL unit that is open.
func (d *depacketizer) openCheck(what, kind string) error {
	if d.fuAt >= 0 {
		return fmt.Errorf("%s %s while a fragmented NAL unit is open: its end fragment is missing", what, kind)
	}
	return nil
}

// single appends a single NAL unit packet's NAL unit.
func (d *depacketizer) single(n []byte) error {
	if err := d.openCheck("single NAL unit", "packet"); err != nil {
		return err
	}
	d.synced = true
	if err := d.grow(4 + len(n)); err != nil {
		return err
	}
	at := len(d.buf)
	d.buf = append(d.buf, 0, 0, 0, 0)
	d.buf = append(d.buf, n...)
	return d.complete(at)
}

// aggregate appends the NAL units of a STAP-A (H.264) or AP (H.265)
// payload, without its header: 16-bit sizes, each followed by a NAL unit.
// H.264 allows zero padding at the end.
func (d *depacketizer) aggregate(p []byte, what string, padding bool) error {
	if err := d.openCheck(what, "packet"); err != nil {
		return err
	}
	d.synced = true
	// Validate and measure first, so nothing is copied from a bad packet.
	need, count := 0, 0
	for q := p; ; {
		if len(q) < 2 {
			return fmt.Errorf("%s packet truncated: %d bytes where a 2-byte NAL unit size is expected", what, len(q))
		}
		size := int(binary.BigEndian.Uint16(q))
		q = q[2:]
		if size == 0 {
			if padding && allZero(q) && count > 0 {
				break
			}
			return fmt.Errorf("%s packet with a NAL unit of size 0", what)
		}
		if size > len(q) {
			return fmt.Errorf("%s packet truncated: NAL unit of %d bytes, %d left", what, size, len(q))
		}
		q = q[size:]
		need += 4 + size
		count++
		if len(q) == 0 {
			break
		}
	}
	if n := len(d.offs) + count; n > d.maxNALUs {
		return &tooLargeError{nalus: d.maxNALUs}
	}
	if err := d.grow(need); err != nil {
		return err
	}
	for range count {
		size := int(binary.BigEndian.Uint16(p))
		at := len(d.buf)
		d.buf = append(d.buf, 0, 0, 0, 0)
		d.buf = append(d.buf, p[2:2+size]...)
		if err := d.complete(at); err != nil {
			return err
		}
		p = p[2+size:]
	}
	return nil
}

// startFragment opens a fragmented NAL unit with its reconstructed header
// and first fragment; end closes it at once.
func (d *depacketizer) startFragment(header, frag []byte, end bool, what string) error {
	if err := d.openCheck(what, "start fragment"); err != nil {
		return err
	}
	d.synced = true
	if err := d.grow(4 + len(header) + len(frag)); err != nil {
		return err
	}
	at := len(d.buf)
	d.buf = append(d.buf, 0, 0, 0, 0)
	d.buf = append(d.buf, header...)
	d.buf = append(d.buf, frag...)
	if end {
		return d.complete(at)
	}
	d.fuAt = at
	return nil
}

// fragment appends a continuation fragment to the open NAL unit; end
// closes it.
func (d *depacketizer) fragment(frag []byte, end bool) error {
	if d.fuAt < 0 {
		if !d.synced {
			return errOrphan
		}
		return errors.New("continuation fragment without its start fragment")
	}
	if err := d.grow(len(frag)); err != nil {
		return err
	}
	d.buf = append(d.buf, frag...)
	if end {
		at := d.fuAt
		d.fuAt = -1
		return d.complete(at)
	}
	return nil
}

// startCode is the Annex-B start code; a valid NAL unit never contains it
// (emulation prevention), but some cameras send Annex-B inside RTP.
var startCode = []byte{0, 0, 1}

// complete records the NAL unit whose length prefix is at at and which
// runs to the end of the buffer. A NAL unit carrying Annex-B start codes
// is split into the NAL units between them.
func (d *depacketizer) complete(at int) error {
	body := d.buf[at+4:]
	if hasStartCode(body) {
		return d.splitAnnexB(at)
	}
	if len(d.offs) >= d.maxNALUs {
		return &tooLargeError{nalus: d.maxNALUs}
	}
	binary.BigEndian.PutUint32(d.buf[at:], uint32(len(body)))
	d.offs = append(d.offs, at)
	return nil
}

// splitAnnexB replaces the NAL unit at at, which runs to the end of the
// buffer, with the non-empty NAL units between its start codes (3 or 4
// bytes).
func (d *depacketizer) splitAnnexB(at int) error {
	d.split = append(d.split[:0], d.buf[at+4:]...)
	d.buf = d.buf[:at]
	for b := d.split; len(b) > 0; {
		i := bytes.Index(b, startCode)
		n, skip := b, len(b)
		if i >= 0 {
			n, skip = b[:i], i+3
			if i > 0 && b[i-1] == 0 {
				n = b[:i-1] // 4-byte start code
			}
		}
		b = b[skip:]
		if len(n) == 0 {
			continue
		}
		if len(d.offs) >= d.maxNALUs {
			return &tooLargeError{nalus: d.maxNALUs}
		}
		if err := d.grow(4 + len(n)); err != nil {
			return err
		}
		d.offs = append(d.offs, len(d.buf))
		d.buf = binary.BigEndian.AppendUint32(d.buf, uint32(len(n)))
		d.buf = append(d.buf, n...)
	}
	return nil
}

// hasStartCode reports whether b contains 00 00 01. It looks for the 01
// first: in slice data a zero pair is some ten times more frequent than
// chance (emulation prevention), so this takes a fifth less time than
// bytes.Contains, and every byte of video passes here.
func hasStartCode(b []byte) bool {
	for i := 2; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], 1)
		if j < 0 {
			return false
		}
		i += j
		if b[i-1] == 0 && b[i-2] == 0 {
			return true
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
