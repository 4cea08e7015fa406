package media

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// mp4Epoch is the zero of MP4 header times (mvhd, tkhd, mdhd): 1904-01-01 UTC.
var mp4Epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)

// SetRecorded stamps the file with the wall-clock time its first frame was
// recorded: the creation and modification times of mvhd, tkhd and mdhd
// (seconds since 1904, UTC; ffprobe shows them as creation_time), and a
// moov/udta/©day box holding t in RFC 3339 with t's offset and
// milliseconds (ffprobe shows it as the "date" tag). The udta box makes
// moov longer, so the chunk offsets (stco) move by as much. Call it once,
// before the first read.
func (f *File) SetRecorded(t time.Time) error {
	const op = "media.SetRecorded"
	secs := t.UTC().Sub(mp4Epoch) / time.Second
	if secs < 0 || secs > 1<<32-1 {
		return errs.Errorf(op, errs.Invalid, "time %v cannot be written as an MP4 time", t)
	}
	day := []byte(t.Format("2006-01-02T15:04:05.000Z07:00"))
	// ©day: 16-bit length, 16-bit packed ISO 639-2 language ("und"), text.
	item := box("\xa9day", binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, uint16(len(day))), 0x55c4), day)
	udta := box("udta", item)
	h := f.header
	var moov = -1
	for off := 0; off+8 <= len(h); {
		size := int(binary.BigEndian.Uint32(h[off:]))
		if string(h[off+4:off+8]) == "mdat" {
			break
		}
		if size < 8 || off+size > len(h) {
			return errs.Errorf(op, errs.Internal, "bad box at header offset %d", off)
		}
		if string(h[off+4:off+8]) == "moov" {
			moov = off
		}
		off += size
	}
	if moov < 0 {
		return errs.E(op, errs.Internal, "the header has no moov box")
	}
	moovSize := int(binary.BigEndian.Uint32(h[moov:]))
	delta := uint32(len(udta))
	var bad error
	walk(h[moov+8:moov+moovSize], func(typ string, b []byte) {
		switch typ {
		case "mvhd", "tkhd", "mdhd":
			if len(b) < 12 {
				bad = fmt.Errorf("%s too short", typ)
				return
			}
			if b[0] == 0 {
				binary.BigEndian.PutUint32(b[4:], uint32(secs))
				binary.BigEndian.PutUint32(b[8:], uint32(secs))
			} else if len(b) >= 20 {
				binary.BigEndian.PutUint64(b[4:], uint64(secs))
				binary.BigEndian.PutUint64(b[12:], uint64(secs))
			}
		case "stco":
			n := int(binary.BigEndian.Uint32(b[4:]))
			if len(b) < 8+4*n {
				bad = fmt.Errorf("stco too short")
				return
			}
			for i := 0; i < n; i++ {
				p := b[8+4*i:]
				binary.BigEndian.PutUint32(p, binary.BigEndian.Uint32(p)+delta)
			}
		case "co64":
			bad = fmt.Errorf("co64 is not expected in a playback MP4")
		}
	})
	if bad != nil {
		return errs.E(op, errs.Internal, bad)
	}
	out := make([]byte, 0, len(h)+len(udta))
	out = append(out, h[:moov+moovSize]...)
	out = append(out, udta...)
	out = append(out, h[moov+moovSize:]...)
	binary.BigEndian.PutUint32(out[moov:], uint32(moovSize+len(udta)))
	if f.size+int64(delta) > MaxFileSize {
		return errs.Errorf(op, errs.TooLarge, "the MP4 would exceed %d bytes", int64(MaxFileSize))
	}
	f.header = out
	f.size += int64(delta)
	for i := range f.starts {
		f.starts[i] += int64(delta)
	}
	return nil
}

// box returns an MP4 box of typ holding the parts.
func box(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
	b = append(b, typ...)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// walk calls fn with every box's type and payload in b, descending into
// the containers a playback MP4's moov has.
func walk(b []byte, fn func(typ string, payload []byte)) {
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		if size < 8 || off+size > len(b) {
			return
		}
		typ := string(b[off+4 : off+8])
		payload := b[off+8 : off+size]
		switch typ {
		case "trak", "mdia", "minf", "stbl", "edts":
			walk(payload, fn)
		default:
			fn(typ, payload)
		}
		off += size
	}
}
