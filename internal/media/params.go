package media

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/gwanje/gwanje/internal/errs"
)

// paramsVersion is the version byte of the binary form of Params. Bump it,
// and keep decoding every older version, when the layout changes.
const paramsVersion = 1

// maxParamSetSize bounds one parameter set in the binary form.
const maxParamSetSize = 0xffff

// MarshalBinary encodes p for sealing in the index. Layout, version 1:
//
//	byte 0     version (1)
//	byte 1     codec (Codec value)
//	then VPS, SPS, PPS, each as a 2-byte big-endian length and the bytes
//
// It fails if p is not Complete or a parameter set exceeds 65535 bytes.
func (p *Params) MarshalBinary() ([]byte, error) {
	const op = "media.Params.MarshalBinary"
	if !p.Complete() {
		return nil, errs.E(op, errs.Invalid, "incomplete parameter sets")
	}
	if p.Codec == CodecH264 && len(p.VPS) > 0 {
		return nil, errs.E(op, errs.Invalid, "H.264 has no VPS")
	}
	b := make([]byte, 0, 2+6+len(p.VPS)+len(p.SPS)+len(p.PPS))
	b = append(b, paramsVersion, byte(p.Codec))
	for _, f := range []struct {
		name string
		v    []byte
	}{{"VPS", p.VPS}, {"SPS", p.SPS}, {"PPS", p.PPS}} {
		if len(f.v) > maxParamSetSize {
			return nil, errs.Errorf(op, errs.TooLarge, "%s of %d bytes, limit %d", f.name, len(f.v), maxParamSetSize)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.v)))
		b = append(b, f.v...)
	}
	return b, nil
}

// UnmarshalBinary decodes the form MarshalBinary writes. It rejects unknown
// versions and codecs, truncation, trailing bytes and incomplete parameter
// sets. The decoded slices are copies, not aliases of b.
func (p *Params) UnmarshalBinary(b []byte) error {
	const op = "media.Params.UnmarshalBinary"
	if len(b) < 2 {
		return errs.Errorf(op, errs.Corrupt, "%d bytes, need at least 2", len(b))
	}
	if b[0] != paramsVersion {
		return errs.Errorf(op, errs.Corrupt, "unsupported version %d", b[0])
	}
	q := Params{Codec: Codec(b[1])}
	if q.Codec != CodecH264 && q.Codec != CodecH265 {
		return errs.Errorf(op, errs.Corrupt, "unknown codec %d at offset 1", b[1])
	}
	pos := 2
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"VPS", &q.VPS}, {"SPS", &q.SPS}, {"PPS", &q.PPS}} {
		if len(b)-pos < 2 {
			return errs.Errorf(op, errs.Corrupt, "%s length truncated at offset %d", f.name, pos)
		}
		l := int(binary.BigEndian.Uint16(b[pos:]))
		pos += 2
		if len(b)-pos < l {
			return errs.Errorf(op, errs.Corrupt, "%s at offset %d claims %d bytes, %d left", f.name, pos, l, len(b)-pos)
		}
		if l > 0 {
			*f.dst = append([]byte(nil), b[pos:pos+l]...)
		}
		pos += l
	}
	if pos != len(b) {
		return errs.Errorf(op, errs.Corrupt, "%d trailing bytes at offset %d", len(b)-pos, pos)
	}
	if q.Codec == CodecH264 && len(q.VPS) > 0 {
		return errs.E(op, errs.Corrupt, "H.264 parameters with a VPS")
	}
	if !q.Complete() {
		return errs.Errorf(op, errs.Corrupt, "incomplete %v parameter sets", q.Codec)
	}
	*p = q
	return nil
}

// Size returns the width and height in pixels that p's SPS declares (after
// cropping).
func (p *Params) Size() (width, height int, err error) {
	const op = "media.Params.Size"
	switch p.Codec {
	case CodecH264:
		var s h264.SPS
		if err := s.Unmarshal(p.SPS); err != nil {
			return 0, 0, errs.E(op, errs.Invalid, fmt.Errorf("H.264 SPS: %w", err))
		}
		return s.Width(), s.Height(), nil
	case CodecH265:
		var s h265.SPS
		if err := s.Unmarshal(p.SPS); err != nil {
			return 0, 0, errs.E(op, errs.Invalid, fmt.Errorf("H.265 SPS: %w", err))
		}
		return s.Width(), s.Height(), nil
	}
	return 0, 0, errs.Errorf(op, errs.Invalid, "codec %v", p.Codec)
}

// CodecString returns the RFC 6381 codecs parameter for p, as Media Source
// Extensions want it: "avc1.4D401F" for H.264 (profile, constraint flags,
// level from the SPS) and "hvc1.1.6.L93.B0" for H.265 (ISO/IEC 14496-15
// annex E: profile space and profile, compatibility flags bit-reversed,
// tier and level, constraint bytes without trailing zeros).
func (p *Params) CodecString() (string, error) {
	const op = "media.Params.CodecString"
	switch p.Codec {
	case CodecH264:
		// profile_idc, constraint_set flags and level_idc are the three
		// bytes after the NAL header, never subject to emulation prevention.
		if len(p.SPS) < 4 || p.SPS[0]&0x1f != h264SPS {
			return "", errs.E(op, errs.Invalid, "H.264 SPS too short or of the wrong type")
		}
		return fmt.Sprintf("avc1.%02X%02X%02X", p.SPS[1], p.SPS[2], p.SPS[3]), nil
	case CodecH265:
		// The mediacommon SPS parser does not keep the raw constraint
		// bytes, so read the byte-aligned profile_tier_level directly:
		// 2-byte NAL header, 1 byte (vps id, sub-layers, nesting), then
		// 1 byte space/tier/profile, 4 bytes compatibility flags,
		// 6 bytes constraint flags, 1 byte level.
		if naluType(CodecH265, p.SPS) != h265SPS {
			return "", errs.E(op, errs.Invalid, "H.265 SPS missing or of the wrong type")
		}
		rbsp := h264.EmulationPreventionRemove(p.SPS)
		if len(rbsp) < 3+12 {
			return "", errs.Errorf(op, errs.Invalid, "H.265 SPS of %d bytes is too short", len(p.SPS))
		}
		ptl := rbsp[3:15]
		var b strings.Builder
		b.WriteString("hvc1.")
		if space := ptl[0] >> 6; space > 0 {
			b.WriteByte('A' + space - 1)
		}
		b.WriteString(strconv.Itoa(int(ptl[0] & 0x1f)))
		compat := binary.BigEndian.Uint32(ptl[1:5])
		var rev uint32
		for i := range 32 {
			if compat&(1<<i) != 0 {
				rev |= 1 << (31 - i)
			}
		}
		fmt.Fprintf(&b, ".%X.", rev)
		if ptl[0]&0x20 != 0 {
			b.WriteByte('H')
		} else {
			b.WriteByte('L')
		}
		b.WriteString(strconv.Itoa(int(ptl[11])))
		cons := ptl[5:11]
		last := len(cons)
		for last > 0 && cons[last-1] == 0 {
			last--
		}
		for _, c := range cons[:last] {
			fmt.Fprintf(&b, ".%X", c)
		}
		return b.String(), nil
	}
	return "", errs.Errorf(op, errs.Invalid, "codec %v", p.Codec)
}

// mp4Codec returns p as the mediacommon sample entry codec.
func (p *Params) mp4Codec() (codecs.Codec, error) {
	switch p.Codec {
	case CodecH264:
		return &codecs.H264{SPS: p.SPS, PPS: p.PPS}, nil
	case CodecH265:
		return &codecs.H265{VPS: p.VPS, SPS: p.SPS, PPS: p.PPS}, nil
	}
	return nil, fmt.Errorf("codec %v", p.Codec)
}
