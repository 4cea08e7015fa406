// Package clip holds the sample clips embedded in the gwanje binary: ten
// seconds of 1280x720, 25 fps, about 2 Mbit/s test pattern with a burned-in
// clock, once in H.264 (Main, no B-frames) and once in H.265, both with a
// key frame every second and parameter sets repeated before every key frame,
// as many cameras send them. The camera simulator loops them and tests feed
// them through the pipeline. data/README.md says how they were made.
package clip

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/gwanje/gwanje/internal/media"
)

//go:embed data/h264.264 data/h265.265
var data embed.FS

// FrameDuration is the duration of one frame of every clip, in 90 kHz units
// (25 fps).
const FrameDuration = media.Hz / 25

// AU is one access unit of a clip.
type AU struct {
	NALUs [][]byte
	Key   bool
	// DTS is the decode time from the start of the clip, in 90 kHz units.
	// The clips have no B-frames, so presentation time equals DTS.
	DTS int64
}

// Clip is a parsed clip.
type Clip struct {
	Codec  media.Codec
	Params *media.Params
	AUs    []AU
	// Duration is the length of one loop in 90 kHz units.
	Duration int64
}

var (
	once  [3]sync.Once
	clips [3]*Clip
	errs  [3]error
)

// Load returns the parsed clip for codec. The result is shared: callers must
// not modify it.
func Load(codec media.Codec) (*Clip, error) {
	if codec != media.CodecH264 && codec != media.CodecH265 {
		return nil, fmt.Errorf("clip: no clip for codec %v", codec)
	}
	once[codec].Do(func() { clips[codec], errs[codec] = parse(codec) })
	return clips[codec], errs[codec]
}

// Raw returns the clip's Annex-B elementary stream as stored.
func Raw(codec media.Codec) ([]byte, error) {
	switch codec {
	case media.CodecH264:
		return data.ReadFile("data/h264.264")
	case media.CodecH265:
		return data.ReadFile("data/h265.265")
	}
	return nil, fmt.Errorf("clip: no clip for codec %v", codec)
}

func parse(codec media.Codec) (*Clip, error) {
	raw, err := Raw(codec)
	if err != nil {
		return nil, err
	}
	nalus := splitAnnexB(raw)
	c := &Clip{Codec: codec, Params: &media.Params{Codec: codec}}
	var cur *AU
	flush := func() {
		if cur != nil && len(cur.NALUs) > 0 {
			cur.DTS = int64(len(c.AUs)) * FrameDuration
			c.AUs = append(c.AUs, *cur)
		}
		cur = nil
	}
	sawVCL := false
	for _, n := range nalus {
		if len(n) < 3 {
			continue
		}
		vcl, first, key, param := classify(codec, n)
		switch param {
		case "vps":
			setOnce(&c.Params.VPS, n)
		case "sps":
			setOnce(&c.Params.SPS, n)
		case "pps":
			setOnce(&c.Params.PPS, n)
		}
		// A non-VCL NAL unit after a VCL one, or the first slice of a
		// picture, begins a new access unit.
		if (!vcl && sawVCL) || (vcl && first && sawVCL) {
			flush()
			sawVCL = false
		}
		if cur == nil {
			cur = &AU{}
		}
		cur.NALUs = append(cur.NALUs, n)
		if vcl {
			sawVCL = true
			cur.Key = cur.Key || key
		}
	}
	flush()
	if !c.Params.Complete() {
		return nil, fmt.Errorf("clip %v: parameter sets missing", codec)
	}
	if len(c.AUs) == 0 || !c.AUs[0].Key {
		return nil, fmt.Errorf("clip %v: does not start with a key frame", codec)
	}
	c.Duration = int64(len(c.AUs)) * FrameDuration
	return c, nil
}

func setOnce(dst *[]byte, n []byte) {
	if *dst == nil {
		*dst = append([]byte(nil), n...)
	}
}

// classify reports whether n is a VCL NAL unit, whether it is the first
// slice of its picture, whether it is a random access point, and which
// parameter set it is, if any.
func classify(codec media.Codec, n []byte) (vcl, first, key bool, param string) {
	if codec == media.CodecH264 {
		typ := n[0] & 0x1f
		switch typ {
		case 7:
			return false, false, false, "sps"
		case 8:
			return false, false, false, "pps"
		case 1, 5:
			// first_mb_in_slice is ue(v); the value 0 is the single bit 1.
			return true, n[1]&0x80 != 0, typ == 5, ""
		}
		return false, false, false, ""
	}
	typ := (n[0] >> 1) & 0x3f
	switch {
	case typ == 32:
		return false, false, false, "vps"
	case typ == 33:
		return false, false, false, "sps"
	case typ == 34:
		return false, false, false, "pps"
	case typ < 32:
		// first_slice_segment_in_pic_flag follows the 2-byte header.
		return true, n[2]&0x80 != 0, typ >= 16 && typ <= 23, ""
	}
	return false, false, false, ""
}

// splitAnnexB splits a whole elementary stream at its start codes. (The
// library's Annex-B parser is meant for one access unit and caps the count.)
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+3 <= len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = append(out, bytes.TrimRight(b[start:i], "\x00"))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
