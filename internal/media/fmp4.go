package media

import (
	"fmt"
	"math"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/gwanje/gwanje/internal/errs"
)

// Init returns the initialization segment (ftyp and moov) of a fragmented
// MP4 live stream of one video track with params in its sample entry, in
// 90 kHz units. Media Source Extensions need it before any fragment.
func Init(params *Params) ([]byte, error) {
	const op = "media.Init"
	if !params.Complete() {
		return nil, errs.E(op, errs.Invalid, "incomplete parameter sets")
	}
	codec, err := params.mp4Codec()
	if err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: Hz, Codec: codec}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return buf.Bytes(), nil
}

// Fragment is one piece of a live stream to send to a viewer, in order.
type Fragment struct {
	// Init, when not nil, is a new initialization segment that must be
	// appended before Data: the camera changed its parameter sets.
	Init []byte
	// Data is one moof and its mdat.
	Data []byte
}

// Fragmenter turns groups of frames into fragmented MP4 for one viewer. The
// decode time (baseMediaDecodeTime) starts at zero and runs on without a
// break across fragments and parameter changes. Not safe for concurrent
// use.
type Fragmenter struct {
	params *Params
	seq    uint32
	next   uint64
}

// NewFragmenter returns a Fragmenter whose stream starts with params; send
// Init(params) to the viewer first.
func NewFragmenter(params *Params) (*Fragmenter, error) {
	const op = "media.NewFragmenter"
	if !params.Complete() {
		return nil, errs.E(op, errs.Invalid, "incomplete parameter sets")
	}
	return &Fragmenter{params: params}, nil
}

// Params returns the parameter sets of the current initialization segment
// (for CodecString after a change).
func (w *Fragmenter) Params() *Params { return w.params }

// DecodeTime returns the decode time, in 90 kHz units from the start of the
// stream, of the next fragment.
func (w *Fragmenter) DecodeTime() uint64 { return w.next }

// Write encodes frames as one fragment. Each frame lasts until the next
// one's Wall; the last lasts until end (90 kHz, same clock as Wall), so
// durations are positive and fit 32 bits. A frame with nil Params keeps the
// current ones. If frames[0] carries different parameter sets it must be a
// key frame and the result carries a new Init; a change at any later frame
// is an error, so callers group frames from key frame to key frame.
func (w *Fragmenter) Write(frames []Frame, end int64) (Fragment, error) {
	const op = "media.Fragmenter.Write"
	if len(frames) == 0 {
		return Fragment{}, errs.E(op, errs.Invalid, "no frames")
	}
	var out Fragment
	params := w.params
	if p := frames[0].Params; p != nil && p != w.params && !p.Equal(w.params) {
		if !frames[0].Key {
			return Fragment{}, errs.E(op, errs.Invalid, "parameter sets change on a frame that is not a key frame")
		}
		init, err := Init(p)
		if err != nil {
			return Fragment{}, errs.E(op, err)
		}
		params = p
		out.Init = init
	}
	samples := make([]*fmp4.Sample, len(frames))
	var total uint64
	for i := range frames {
		fr := &frames[i]
		if i > 0 && fr.Params != nil && fr.Params != params && !fr.Params.Equal(params) {
			return Fragment{}, errs.Errorf(op, errs.Invalid, "parameter sets change at frame %d, not at the start of the group", i)
		}
		next := end
		if i+1 < len(frames) {
			next = frames[i+1].Wall
		}
		d := next - fr.Wall
		if d <= 0 || d > math.MaxUint32 {
			return Fragment{}, errs.Errorf(op, errs.Invalid, "frame %d lasts %d ticks (90 kHz): time must move forward by less than 2^32", i, d)
		}
		if len(fr.Data) == 0 {
			return Fragment{}, errs.Errorf(op, errs.Invalid, "frame %d is empty", i)
		}
		samples[i] = &fmp4.Sample{
			Duration:        uint32(d),
			PTSOffset:       fr.PTSOffset,
			IsNonSyncSample: !fr.Key,
			Payload:         fr.Data,
		}
		total += uint64(d)
	}
	part := fmp4.Part{
		SequenceNumber: w.seq + 1,
		Tracks: []*fmp4.PartTrack{{
			ID:       1,
			BaseTime: w.next,
			Samples:  samples,
		}},
	}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return Fragment{}, errs.E(op, errs.Internal, fmt.Errorf("fragment %d: %w", w.seq+1, err))
	}
	w.seq++
	w.next += total
	w.params = params
	out.Data = buf.Bytes()
	return out, nil
}
