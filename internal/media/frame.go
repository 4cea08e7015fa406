// Package media holds the types that cross gwanje's recording pipeline
// (access units, codec parameters, 90 kHz wall-clock time) and builds MP4
// files from them on mediacommon. It imports no other gwanje package.
package media

import (
	"bytes"
	"time"
)

// Codec identifies a video codec. Values are stored on disk: append only.
type Codec uint8

const (
	CodecUnknown Codec = 0
	CodecH264    Codec = 1
	CodecH265    Codec = 2
)

func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H.264"
	case CodecH265:
		return "H.265"
	}
	return "unknown"
}

// Params are the parameter sets a decoder needs before the first frame of a
// segment. H.264 uses SPS and PPS; H.265 uses VPS, SPS and PPS. A change of
// any byte starts a new segment.
type Params struct {
	Codec Codec
	VPS   []byte // H.265 only
	SPS   []byte
	PPS   []byte
}

// Equal reports whether p and q describe the same stream configuration.
func (p *Params) Equal(q *Params) bool {
	if p == nil || q == nil {
		return p == q
	}
	return p.Codec == q.Codec && bytes.Equal(p.VPS, q.VPS) &&
		bytes.Equal(p.SPS, q.SPS) && bytes.Equal(p.PPS, q.PPS)
}

// Complete reports whether every parameter set the codec needs is present.
func (p *Params) Complete() bool {
	if p == nil {
		return false
	}
	switch p.Codec {
	case CodecH264:
		return len(p.SPS) > 0 && len(p.PPS) > 0
	case CodecH265:
		return len(p.VPS) > 0 && len(p.SPS) > 0 && len(p.PPS) > 0
	}
	return false
}

// Frame is one complete access unit as received from a camera, ready to be
// stored. Data is in MP4 sample form: each NAL unit preceded by its length as
// a 4-byte big-endian integer. The bytes are the camera's; nothing is
// re-encoded.
type Frame struct {
	// Wall is the frame's decode time on the server's wall clock, in 90 kHz
	// units since the Unix epoch (see Time90k). Within a run of frames with
	// no discontinuity, Wall advances exactly by the RTP timestamp deltas.
	Wall int64
	// PTSOffset is presentation time minus decode time, in 90 kHz units
	// (non-zero only for streams with B-frames).
	PTSOffset int32
	// Key is true for a random access point (H.264 IDR, H.265 IRAP).
	Key bool
	// Params are the parameter sets in force for this frame. Ingest shares
	// one *Params between frames until the camera changes them.
	Params *Params
	Data   []byte
}

// Hz is the media clock rate of every time in gwanje's index.
const Hz = 90000

// Time90k converts t to 90 kHz units since the Unix epoch.
func Time90k(t time.Time) int64 {
	s := t.Unix()
	return s*Hz + int64(t.Nanosecond())*Hz/1e9
}

// FromTime90k converts 90 kHz units since the Unix epoch to a time.Time.
func FromTime90k(v int64) time.Time {
	s := v / Hz
	r := v % Hz
	if r < 0 {
		s--
		r += Hz
	}
	return time.Unix(s, r*1e9/Hz)
}

// Duration90k converts a duration in 90 kHz units to a time.Duration.
func Duration90k(v int64) time.Duration {
	return time.Duration(v/Hz)*time.Second + time.Duration(v%Hz)*time.Second/Hz
}
