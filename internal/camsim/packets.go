package camsim

import (
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// payloadType is the dynamic RTP payload type of every simulated camera.
const payloadType = 96

// payload is one RTP packet of a clip without its per-camera header fields
// (sequence number, timestamp, SSRC), which are filled in at send time.
type payload struct {
	data   []byte
	marker bool
}

// frame is one access unit of a clip, packetized.
type frame struct {
	pkts []payload
	key  bool
	dts  int64 // 90 kHz units from the start of the clip
}

// packetized is a clip cut into RTP payloads once, shared by every camera
// that streams it.
type packetized struct {
	codec    media.Codec
	params   *media.Params
	frames   []frame
	duration int64 // one loop, 90 kHz units
	// keyOf[i] is the index of the key frame that starts frame i's GOP.
	keyOf []int
}

// packetize loads the embedded clip for codec and splits every access unit
// into RTP payloads with gortsplib's encoder.
func packetize(codec media.Codec) (*packetized, error) {
	const op = "camsim.packetize"
	c, err := clip.Load(codec)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	var encode func([][]byte) ([]*rtp.Packet, error)
	switch codec {
	case media.CodecH264:
		e := &rtph264.Encoder{PayloadType: payloadType, PacketizationMode: 1}
		if err := e.Init(); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		encode = e.Encode
	case media.CodecH265:
		e := &rtph265.Encoder{PayloadType: payloadType}
		if err := e.Init(); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		encode = e.Encode
	default:
		return nil, errs.Errorf(op, errs.Invalid, "codec %v is not simulated", codec)
	}
	p := &packetized{
		codec:    codec,
		params:   c.Params,
		frames:   make([]frame, len(c.AUs)),
		duration: c.Duration,
		keyOf:    make([]int, len(c.AUs)),
	}
	lastKey := 0
	for i, au := range c.AUs {
		pkts, err := encode(au.NALUs)
		if err != nil {
			return nil, errs.Errorf(op, errs.Internal, "%v access unit %d: %w", codec, i, err)
		}
		f := frame{key: au.Key, dts: au.DTS, pkts: make([]payload, len(pkts))}
		for j, pkt := range pkts {
			f.pkts[j] = payload{data: pkt.Payload, marker: pkt.Marker}
		}
		p.frames[i] = f
		if au.Key {
			lastKey = i
		}
		p.keyOf[i] = lastKey
	}
	return p, nil
}

// nextKey is the first frame number from k on (frames counted across
// loops) that is a key frame.
func (p *packetized) nextKey(k int64) int64 {
	n := int64(len(p.frames))
	for i := int64(0); i < n; i++ {
		if p.frames[(k+i)%n].key {
			return k + i
		}
	}
	return k
}

// format returns the SDP format of the clip, carrying its parameter sets
// (sprop-parameter-sets / sprop-vps, -sps, -pps).
func (p *packetized) format() format.Format {
	if p.codec == media.CodecH265 {
		return &format.H265{
			PayloadTyp: payloadType,
			VPS:        p.params.VPS,
			SPS:        p.params.SPS,
			PPS:        p.params.PPS,
		}
	}
	return &format.H264{
		PayloadTyp:        payloadType,
		PacketizationMode: 1,
		SPS:               p.params.SPS,
		PPS:               p.params.PPS,
	}
}
