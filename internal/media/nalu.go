package media

import (
	"encoding/binary"

	"github.com/gwanje/gwanje/internal/errs"
)

// Limits on what SplitAVCC accepts. A stored frame larger than this is not a
// frame from a camera but damage.
const (
	// MaxFrameSize is the largest access unit, in bytes, gwanje accepts.
	MaxFrameSize = 16 << 20
	// MaxNALUsPerFrame is the largest number of NAL units in one access
	// unit gwanje accepts.
	MaxNALUsPerFrame = 256
)

// AVCCSize returns the size of nalus in MP4 sample form.
func AVCCSize(nalus [][]byte) int {
	n := 0
	for _, u := range nalus {
		n += 4 + len(u)
	}
	return n
}

// AppendAVCC appends nalus to dst in MP4 sample form (each NAL unit preceded
// by its length as a 4-byte big-endian integer) and returns the result.
func AppendAVCC(dst []byte, nalus [][]byte) []byte {
	for _, u := range nalus {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(u)))
		dst = append(dst, u...)
	}
	return dst
}

// ToAVCC converts a list of NAL units to MP4 sample form. It fails on an
// empty list, an empty NAL unit or a frame above MaxFrameSize.
func ToAVCC(nalus [][]byte) ([]byte, error) {
	const op = "media.ToAVCC"
	if len(nalus) == 0 {
		return nil, errs.E(op, errs.Invalid, "no NAL units")
	}
	if len(nalus) > MaxNALUsPerFrame {
		return nil, errs.Errorf(op, errs.TooLarge, "%d NAL units, limit %d", len(nalus), MaxNALUsPerFrame)
	}
	for i, u := range nalus {
		if len(u) == 0 {
			return nil, errs.Errorf(op, errs.Invalid, "NAL unit %d is empty", i)
		}
	}
	if n := AVCCSize(nalus); n > MaxFrameSize {
		return nil, errs.Errorf(op, errs.TooLarge, "frame of %d bytes, limit %d", n, MaxFrameSize)
	}
	return AppendAVCC(make([]byte, 0, AVCCSize(nalus)), nalus), nil
}

// SplitAVCC splits a frame in MP4 sample form into its NAL units. The
// returned slices alias b. It is strict: every length must be non-zero and
// lie within b, b must end exactly after the last NAL unit, and the limits
// MaxFrameSize and MaxNALUsPerFrame hold. The error names the byte offset of
// the first problem.
//
// Written here rather than taken from mediacommon's h264.AVCC because that
// parser skips zero-length units and its errors do not say where the damage
// is, which the store's check needs.
func SplitAVCC(b []byte) ([][]byte, error) {
	const op = "media.SplitAVCC"
	if len(b) == 0 {
		return nil, errs.E(op, errs.Invalid, "empty frame")
	}
	if len(b) > MaxFrameSize {
		return nil, errs.Errorf(op, errs.TooLarge, "frame of %d bytes, limit %d", len(b), MaxFrameSize)
	}
	// Count first so the result is allocated once.
	n := 0
	for pos := 0; pos < len(b); n++ {
		if n == MaxNALUsPerFrame {
			return nil, errs.Errorf(op, errs.TooLarge, "more than %d NAL units (offset %d)", MaxNALUsPerFrame, pos)
		}
		if len(b)-pos < 4 {
			return nil, errs.Errorf(op, errs.Invalid, "truncated length prefix at offset %d (%d bytes left)", pos, len(b)-pos)
		}
		l := binary.BigEndian.Uint32(b[pos:])
		if l == 0 {
			return nil, errs.Errorf(op, errs.Invalid, "zero-length NAL unit at offset %d", pos)
		}
		if uint64(l) > uint64(len(b)-pos-4) {
			return nil, errs.Errorf(op, errs.Invalid, "NAL unit at offset %d claims %d bytes, %d left", pos, l, len(b)-pos-4)
		}
		pos += 4 + int(l)
	}
	out := make([][]byte, 0, n)
	for pos := 0; pos < len(b); {
		l := int(binary.BigEndian.Uint32(b[pos:]))
		out = append(out, b[pos+4:pos+4+l:pos+4+l])
		pos += 4 + l
	}
	return out, nil
}

// NALU types used below (ITU-T H.264 table 7-1, H.265 table 7-1).
const (
	h264IDR = 5
	h264SPS = 7
	h264PPS = 8

	h265IRAPFirst = 16 // BLA_W_LP
	h265IRAPLast  = 23 // RSV_IRAP_VCL23
	h265VPS       = 32
	h265SPS       = 33
	h265PPS       = 34
)

// naluType returns the NAL unit type of u, or -1 if u is too short.
func naluType(c Codec, u []byte) int {
	switch c {
	case CodecH264:
		if len(u) < 1 {
			return -1
		}
		return int(u[0] & 0x1f)
	case CodecH265:
		if len(u) < 2 {
			return -1
		}
		return int(u[0]>>1) & 0x3f
	}
	return -1
}

// IsKey reports whether the access unit nalus is a random access point: it
// holds an H.264 IDR slice or an H.265 IRAP slice (types 16 to 23).
func IsKey(c Codec, nalus [][]byte) bool {
	for _, u := range nalus {
		t := naluType(c, u)
		switch c {
		case CodecH264:
			if t == h264IDR {
				return true
			}
		case CodecH265:
			if t >= h265IRAPFirst && t <= h265IRAPLast {
				return true
			}
		}
	}
	return false
}

// ExtractParams returns the parameter sets found in the access unit nalus
// (the first of each kind) and whether any was found. The result may be
// incomplete; check Complete. The returned slices are copies.
func ExtractParams(c Codec, nalus [][]byte) (Params, bool) {
	p := Params{Codec: c}
	found := false
	set := func(dst *[]byte, u []byte) {
		if *dst == nil {
			*dst = append([]byte(nil), u...)
			found = true
		}
	}
	for _, u := range nalus {
		t := naluType(c, u)
		switch c {
		case CodecH264:
			switch t {
			case h264SPS:
				set(&p.SPS, u)
			case h264PPS:
				set(&p.PPS, u)
			}
		case CodecH265:
			switch t {
			case h265VPS:
				set(&p.VPS, u)
			case h265SPS:
				set(&p.SPS, u)
			case h265PPS:
				set(&p.PPS, u)
			}
		}
	}
	return p, found
}

// ParamNALUs returns p's parameter sets in decoding order (VPS, SPS, PPS),
// leaving out empty ones.
func (p *Params) ParamNALUs() [][]byte {
	var out [][]byte
	for _, u := range [][]byte{p.VPS, p.SPS, p.PPS} {
		if len(u) > 0 {
			out = append(out, u)
		}
	}
	return out
}
