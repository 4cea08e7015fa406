package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// Sink receives the frames of one camera. The store implements it. Ingest
// calls it from one goroutine per camera.
type Sink interface {
	// WriteFrame takes one complete access unit, in decode order. f.Data is
	// AVCC (4-byte big-endian lengths); f.Params is never nil and complete.
	// The sink may keep f; nobody modifies it after the call.
	WriteFrame(f *media.Frame) error
	// Break marks a discontinuity: the next frame handed over will be a key
	// frame, and its Wall is not continuous with the frame before.
	Break(reason string)
}

// FrameCopier is a Sink that keeps nothing of a frame once WriteFrame has
// returned: it copies what it needs (the store's writer does). A supervisor
// then reuses the memory of each frame it wrote to such a sink and showed
// no live viewer.
type FrameCopier interface {
	Sink
	// CopiesFrames reports that WriteFrame keeps no reference to f or
	// f.Data after it returns.
	CopiesFrames() bool
}

// Track describes the video the camera offered: its codec, the parameter
// sets from the SDP (sprop-parameter-sets; nil or incomplete if the camera
// sends them only in-band) and the RTP payload options.
type Track struct {
	Codec             media.Codec
	Params            *media.Params
	PacketizationMode int // H.264 only (RFC 6184); 0 or 1
	MaxDONDiff        int // H.265 only (RFC 7798); 0 is the only value supported
}

// Counters are a pipeline's running totals.
type Counters struct {
	Packets      uint64 // RTP packets seen
	Frames       uint64 // frames handed over
	KeyFrames    uint64 // key frames handed over
	Bytes        uint64 // bytes of Data handed over
	Dropped      uint64 // complete access units not handed over (waiting for a key frame, invalid)
	Breaks       uint64 // discontinuities handed over
	LostPackets  uint64 // RTP packets missing from the sequence
	Oversize     uint64 // access units discarded for exceeding MaxAccessUnit
	Ignored      uint64 // packets ignored: empty, duplicate or late, orphan fragments
	ParamChanges uint64 // times the parameter sets changed
}

// ClockMapping is what the camera's RTCP sender reports say about its
// clocks, relative to the server's.
type ClockMapping struct {
	// At is the server time the latest sender report arrived.
	At time.Time
	// CameraTime is the camera's wall clock (NTP) in that report, and RTP
	// its RTP timestamp for the same instant.
	CameraTime time.Time
	RTP        uint32
	// Offset is camera wall clock minus server clock at arrival (it
	// includes the network delay).
	Offset time.Duration
	// CameraDriftPPM is how fast the camera's wall clock runs against the
	// server's, and RTPDriftPPM how fast its RTP clock runs against the
	// server's, in parts per million, measured since the first report of the
	// connection (zero until two reports).
	CameraDriftPPM float64
	RTPDriftPPM    float64
	// WallAhead is how far Wall is ahead of the server clock at the latest
	// frame (negative: behind). See docs/design/ingest.md.
	WallAhead time.Duration
}

// Pipeline turns the RTP packets of one camera's video into frames for a
// Sink: it depacketizes (RFC 6184, RFC 7798; depack.go), merges in-band and SDP
// parameter sets, drops what follows packet loss until the next key frame,
// unwraps 32-bit RTP timestamps, anchors frames to the server clock and
// bounds the memory any input can take. It keeps no reference to a packet
// once Packet has returned, so the caller may reuse packets and their
// payload memory. It does no I/O and is driven by
// Packet and SenderReport calls, so tests need no sockets. A Pipeline is not
// safe for concurrent use.
type Pipeline struct {
	sink     Sink
	maxAU    int
	reanchor int64 // 90 kHz
	maxGap   int64 // 90 kHz; a larger DTS step is a discontinuity

	track   Track
	started bool
	dp      *depacketizer
	dts     interface {
		Extract([][]byte, int64) (int64, error)
	}

	params *media.Params // in force, handed over with frames
	next   *media.Params // latest known; replaces params at a key frame

	haveSeq bool
	nextSeq uint16

	// RTP timestamp unwrapping.
	haveTS bool
	lastTS uint32
	extTS  int64

	// The access unit being assembled is in dp; auTS is the timestamp of
	// its first packet.
	auTS   uint32
	skipTS bool // discarding the rest of a discarded access unit
	skipAt uint32

	// The current run.
	inRun      bool
	waitKey    bool
	anchorWall int64
	anchorDTS  int64
	lastDTS    int64

	// How far Wall is behind the server clock over the run (lagging):
	// the least lag of the lag window begun at lagStart, and of the window
	// before it.
	lagStart, lagMin, lagPrev int64
	haveLagPrev               bool

	// Across runs and connections: Wall never goes backwards. lastStep is
	// the step between the run's last two frames (0 after its first);
	// minNext is where the next run may start: the last frame's Wall plus
	// media.LastFrameDuration(lastStep), the end the store gives it.
	haveLast bool
	lastWall int64
	lastStep int64
	minNext  int64

	counters Counters
	mapping  ClockMapping
	firstSR  *ClockMapping

	views   [][]byte // the NAL units of the access unit handed over, into dp's buffer
	scratch [][]byte

	// pooled: frame buffers come from the frame pools, because the
	// supervisor gives them back (its sink is a FrameCopier). Otherwise
	// each frame gets a buffer of its exact size.
	pooled bool
}

// releaseBytes is the most buffer memory the depacketizer keeps between
// access units: a buffer grown beyond it for a large one (a key frame,
// some 30 KiB per camera for a 2 Mbit/s stream) goes back to the frame
// pools when the unit is handed over, instead of staying pinned per camera
// until the next key frame.
const releaseBytes = 16 << 10

// PipelineOptions are a Pipeline's limits; zero fields take the Camera
// defaults.
type PipelineOptions struct {
	MaxAccessUnit int
	Reanchor      time.Duration
}

// maxFrameStep is the longest time between two frames that is still one
// run. A longer step means the camera stalled and resumed with its clock
// advanced: stored as one frame it would hide the gap from the index and
// from monitoring, so it is a discontinuity instead. Two seconds allows
// cameras down to 0.5 frames per second.
const maxFrameStep = 2 * media.Hz

// lagWindow is how long Wall must stay more than the Reanchor bound behind
// the server clock before a run is re-anchored. A recorder starved of CPU
// reads a backlog of frames late, all at once: their Wall (from RTP) is
// right and the server clock at reading is not, and the backlog drains in
// seconds. Only a lag that lasts, a camera clock that runs slow, moves the
// anchor.
const lagWindow = 10 * media.Hz

// NewPipeline returns a Pipeline handing frames to sink. Call Start before
// the first packet of each connection.
func NewPipeline(sink Sink, opts PipelineOptions) *Pipeline {
	if opts.MaxAccessUnit <= 0 {
		opts.MaxAccessUnit = DefaultMaxAccessUnit
	}
	if opts.Reanchor <= 0 {
		opts.Reanchor = DefaultReanchor
	}
	return &Pipeline{
		sink:     sink,
		maxAU:    opts.MaxAccessUnit,
		reanchor: int64(opts.Reanchor) * media.Hz / int64(time.Second),
		maxGap:   maxFrameStep,
		waitKey:  true,
	}
}

// Start prepares for a new connection's packets. It ends any run in
// progress (with a Break) and forgets all stream state except the last
// Wall, so Wall keeps increasing across reconnections.
func (p *Pipeline) Start(t Track) error {
	const op = "ingest.Pipeline.Start"
	p.Stop("reconnect")
	switch t.Codec {
	case media.CodecH264, media.CodecH265:
	default:
		return errs.Errorf(op, errs.Invalid, "codec %v is not supported (H.264 or H.265 only)", t.Codec)
	}
	switch {
	case t.Codec == media.CodecH264 && t.PacketizationMode != 0 && t.PacketizationMode != 1:
		return errs.Errorf(op, errs.Invalid, "H.264 packetization-mode %d is not supported (0 or 1 only)", t.PacketizationMode)
	case t.Codec == media.CodecH265 && t.MaxDONDiff != 0:
		return errs.Errorf(op, errs.Invalid, "H.265 sprop-max-don-diff %d is not supported (0 only: no DONL fields)", t.MaxDONDiff)
	}
	p.track = t
	p.params = nil
	maxNALUs := h264.MaxNALUsPerAccessUnit
	if t.Codec == media.CodecH265 {
		maxNALUs = h265.MaxNALUsPerAccessUnit
	}
	if p.dp != nil {
		p.dp.reset()
	}
	p.dp = newDepacketizer(t.Codec, p.maxAU, maxNALUs)
	p.next = &media.Params{Codec: t.Codec}
	if t.Params != nil {
		n := *t.Params
		n.Codec = t.Codec
		n.VPS = clone(n.VPS)
		n.SPS = clone(n.SPS)
		n.PPS = clone(n.PPS)
		p.next = &n
	}
	p.haveSeq, p.haveTS, p.skipTS = false, false, false
	p.firstSR = nil
	p.started = true
	return nil
}

// Stop ends the run in progress, if any, with a Break carrying reason.
// The next frame handed over will be a key frame.
func (p *Pipeline) Stop(reason string) { p.discontinuity(reason) }

// Counters returns the running totals.
func (p *Pipeline) Counters() Counters { return p.counters }

// Mapping returns the latest RTCP clock mapping.
func (p *Pipeline) Mapping() ClockMapping { return p.mapping }

// Params returns the parameter sets in force (nil before the first key
// frame).
func (p *Pipeline) Params() *media.Params { return p.params }

// discontinuity ends the current run. A Break goes to the sink only if a
// frame was handed over since the last one.
func (p *Pipeline) discontinuity(reason string) {
	if p.inRun {
		p.inRun = false
		p.minNext = p.lastWall + media.LastFrameDuration(p.lastStep)
		p.lastStep = 0
		p.counters.Breaks++
		p.sink.Break(reason)
	}
	p.waitKey = true
}

// Packet takes one RTP packet of the video track, received at now on the
// server clock. It hands any access unit the packet completes to the sink.
// It keeps no reference to pkt nor to any byte of pkt.Payload once it has
// returned: the caller may reuse both for the next packet.
// A non-nil error describes input that was discarded (the pipeline has
// already recovered: it waits for the next key frame) or a sink failure;
// the caller logs it and carries on.
func (p *Pipeline) Packet(pkt *rtp.Packet, now time.Time) error {
	const op = "ingest.Pipeline.Packet"
	if !p.started {
		return errs.E(op, errs.Internal, "Packet before Start")
	}
	p.counters.Packets++

	// Sequence: a gap is loss; an older number is a duplicate or late.
	if p.haveSeq {
		if d := int16(pkt.SequenceNumber - p.nextSeq); d != 0 {
			if d < 0 && d > -64 {
				p.counters.Ignored++ // duplicate or late
				return nil
			}
			if d > 0 {
				p.counters.LostPackets += uint64(d)
			}
			err := errs.Errorf(op, errs.Invalid, "packet loss: got RTP sequence number %d, expected %d: waiting for a key frame", pkt.SequenceNumber, p.nextSeq)
			p.dropPartial()
			p.discontinuity("packet loss")
			p.nextSeq = pkt.SequenceNumber + 1
			if perr := p.decode(pkt, now); perr != nil {
				return perr
			}
			return err
		}
	}
	p.haveSeq = true
	p.nextSeq = pkt.SequenceNumber + 1
	return p.decode(pkt, now)
}

// dropPartial discards the access unit being assembled.
func (p *Pipeline) dropPartial() {
	if p.dp.pending() {
		p.counters.Dropped++
	}
	p.dp.reset()
}

func (p *Pipeline) decode(pkt *rtp.Packet, now time.Time) error {
	const op = "ingest.Pipeline.Packet"
	if len(pkt.Payload) == 0 {
		// Some cameras send empty keep-alive packets.
		p.counters.Ignored++
		return nil
	}
	if p.skipTS {
		if pkt.Timestamp == p.skipAt {
			p.counters.Ignored++
			return nil
		}
		p.skipTS = false
	}

	// A new timestamp completes the access unit before it, even without a
	// marker bit (some cameras never set it). The continuation of an open
	// fragmented NAL unit belongs to the unit it started in, whatever its
	// timestamp; a packet that is not is rejected by the depacketizer.
	var err error
	if p.dp.units() > 0 && !p.dp.fragmentOpen() && pkt.Timestamp != p.auTS {
		err = p.flush(now)
	}
	if !p.dp.pending() {
		p.auTS = pkt.Timestamp
	}

	// The depacketizer copies the payload into the access unit and bounds
	// its bytes and NAL units.
	derr := p.dp.add(pkt.Payload)
	tl, tooLarge := derr.(*tooLargeError)
	switch {
	case derr == nil:
	case derr == errOrphan:
		// A fragment whose start came before the stream was joined (at
		// connect, or after a loss or a discarded unit).
		p.counters.Ignored++
		return err
	case tooLarge:
		p.counters.Oversize++
		p.dropPartial()
		p.discontinuity("access unit too large")
		p.skipTS, p.skipAt = true, pkt.Timestamp
		if tl.nalus > 0 {
			return errs.Errorf(op, errs.TooLarge, "access unit at RTP timestamp %d has more than %d NAL units: discarded", pkt.Timestamp, tl.nalus)
		}
		return errs.Errorf(op, errs.TooLarge, "access unit at RTP timestamp %d exceeds %d bytes (%d so far): discarded", pkt.Timestamp, p.maxAU, tl.bytes)
	default:
		p.dropPartial()
		p.discontinuity("invalid RTP payload")
		p.skipTS, p.skipAt = true, pkt.Timestamp
		return errs.Errorf(op, errs.Invalid, "RTP packet %d: %v", pkt.SequenceNumber, derr)
	}
	if pkt.Marker && !p.dp.fragmentOpen() {
		if ferr := p.flush(now); ferr != nil {
			return ferr
		}
	}
	return err
}

// flush hands over the access unit assembled so far and empties the
// depacketizer.
func (p *Pipeline) flush(now time.Time) error {
	p.views = p.dp.nalus(p.views[:0])
	err := p.accessUnit(p.views, p.dp.avcc(), p.auTS, now)
	clear(p.views)
	p.dp.next()
	return err
}

// unwrap extends a 32-bit RTP timestamp to 64 bits. Steps of less than
// 2^31 in either direction are taken as the short way round, so the value
// is continuous across the wrap and B-frames may step back.
func (p *Pipeline) unwrap(ts uint32) int64 {
	if !p.haveTS {
		p.haveTS, p.lastTS, p.extTS = true, ts, int64(ts)
		return p.extTS
	}
	p.extTS += int64(int32(ts - p.lastTS))
	p.lastTS = ts
	return p.extTS
}

type naluKind uint8

const (
	kindOther naluKind = iota
	kindVCL
	kindKey // a VCL NAL unit of a random access point
	kindVPS
	kindSPS
	kindPPS
	kindDrop // AUD or reserved: not stored
	kindBad  // forbidden bit set or too short
)

func classify(codec media.Codec, n []byte) naluKind {
	if len(n) == 0 || n[0]&0x80 != 0 {
		return kindBad
	}
	if codec == media.CodecH264 {
		switch typ := h264.NALUType(n[0] & 0x1f); {
		case typ == h264.NALUTypeIDR:
			return kindKey
		case typ >= 1 && typ <= 4:
			return kindVCL
		case typ == h264.NALUTypeSPS:
			return kindSPS
		case typ == h264.NALUTypePPS:
			return kindPPS
		case typ == h264.NALUTypeAccessUnitDelimiter, typ == 0, typ >= 24:
			return kindDrop
		}
		return kindOther
	}
	if len(n) < 2 {
		return kindBad
	}
	switch typ := h265.NALUType((n[0] >> 1) & 0x3f); {
	case typ >= 16 && typ <= 23:
		return kindKey
	case typ < 32:
		return kindVCL
	case typ == h265.NALUType_VPS_NUT:
		return kindVPS
	case typ == h265.NALUType_SPS_NUT:
		return kindSPS
	case typ == h265.NALUType_PPS_NUT:
		return kindPPS
	case typ == h265.NALUType_AUD_NUT, typ >= 48:
		return kindDrop
	}
	return kindOther
}

// accessUnit processes one complete access unit with RTP timestamp ts:
// its NAL units, and the same in AVCC form.
func (p *Pipeline) accessUnit(nalus [][]byte, avcc []byte, ts uint32, now time.Time) error {
	const op = "ingest.Pipeline.Packet"
	pts := p.unwrap(ts)

	var vcl, key bool
	size := 0
	kept := 0
	for _, n := range nalus {
		switch classify(p.track.Codec, n) {
		case kindBad:
			p.counters.Dropped++
			p.discontinuity("invalid NAL unit")
			return errs.Errorf(op, errs.Invalid, "access unit at RTP timestamp %d: invalid NAL unit (%d bytes, forbidden bit or truncated header)", ts, len(n))
		case kindKey:
			key = true
			vcl = true
		case kindVCL:
			vcl = true
		case kindVPS:
			p.setParam(&p.next.VPS, n)
			continue
		case kindSPS:
			p.setParam(&p.next.SPS, n)
			continue
		case kindPPS:
			p.setParam(&p.next.PPS, n)
			continue
		case kindDrop:
			continue
		}
		size += 4 + len(n)
		kept++
	}
	if !vcl {
		// Parameter sets or SEI alone (some cameras send SPS/PPS in their
		// own packet with the marker bit set): they were taken above and
		// go with the next picture; nothing to hand over.
		return nil
	}

	if p.waitKey {
		if !key {
			p.counters.Dropped++
			return nil
		}
		if !p.next.Complete() {
			p.counters.Dropped++
			return errs.Errorf(op, errs.Invalid, "key frame at RTP timestamp %d without complete parameter sets (not in the SDP nor in-band): dropped", ts)
		}
	}
	if key && !p.next.Equal(p.params) {
		if p.params != nil {
			p.counters.ParamChanges++
		}
		p.params = p.next
		p.next = &media.Params{Codec: p.params.Codec, VPS: p.params.VPS, SPS: p.params.SPS, PPS: p.params.PPS}
	}

	dts, err := p.extractDTS(nalus, pts, key)
	if err != nil {
		p.counters.Dropped++
		p.discontinuity("invalid timestamps")
		return errs.Errorf(op, errs.Invalid, "access unit at RTP timestamp %d: %v", ts, err)
	}

	nowWall := media.Time90k(now)
	var wall int64
	if p.inRun {
		step := dts - p.lastDTS
		wall = p.anchorWall + (dts - p.anchorDTS)
		switch {
		case step <= 0 || step > p.maxGap:
			p.discontinuity(fmt.Sprintf("RTP timestamp jump of %d ticks", step))
			if !key {
				p.counters.Dropped++
				return errs.Errorf(op, errs.Invalid, "access unit at RTP timestamp %d: timestamp jumped by %d ticks: waiting for a key frame", ts, step)
			}
		case p.lagging(nowWall, wall) && key:
			// Wall has stayed behind the server clock for a whole lag
			// window: re-anchor (it moves forward, never back).
			p.discontinuity(fmt.Sprintf("clock drift: wall %s behind server clock", media.Duration90k(nowWall-wall)))
		}
	}
	if !p.inRun {
		anchor := nowWall
		if p.haveLast && anchor < p.minNext {
			anchor = p.minNext
		}
		p.inRun, p.waitKey = true, false
		p.anchorWall, p.anchorDTS = anchor, dts
		wall = anchor
		p.lastStep = 0
		p.lagStart, p.lagMin, p.haveLagPrev = nowWall, nowWall-wall, false
	} else {
		p.lastStep = wall - p.lastWall
	}
	p.haveLast, p.lastWall, p.lastDTS = true, wall, dts
	p.mapping.WallAhead = media.Duration90k(wall - nowWall)

	var data []byte
	if p.pooled && kept == len(nalus) && len(avcc) == p.dp.buffered() {
		// Frame buffers come back to the pools (the sink copies): the
		// depacketizer's buffer becomes the frame's Data as it is.
		data = p.dp.take()
	} else {
		if p.pooled {
			data = getFrameBuf(size)
		} else {
			data = make([]byte, 0, size)
		}
		if kept == len(nalus) {
			data = append(data, avcc...)
		} else {
			for _, n := range nalus {
				switch classify(p.track.Codec, n) {
				case kindVPS, kindSPS, kindPPS, kindDrop:
					continue
				}
				data = binary.BigEndian.AppendUint32(data, uint32(len(n)))
				data = append(data, n...)
			}
		}
	}
	f := &media.Frame{
		Wall:      wall,
		PTSOffset: int32(pts - dts),
		Key:       key,
		Params:    p.params,
		Data:      data,
	}
	p.counters.Frames++
	if key {
		p.counters.KeyFrames++
	}
	p.counters.Bytes += uint64(len(data))
	if err := p.sink.WriteFrame(f); err != nil {
		p.discontinuity("sink error")
		return errs.E(op, err)
	}
	return nil
}

// lagging takes the lag of one frame of the run (server clock nowWall,
// frame Wall wall) and reports whether Wall has been more than the
// Reanchor bound behind the server clock at every frame for at least a
// whole lagWindow (at most two).
func (p *Pipeline) lagging(nowWall, wall int64) bool {
	lag := nowWall - wall
	if nowWall-p.lagStart >= lagWindow {
		p.lagPrev, p.haveLagPrev = p.lagMin, true
		p.lagStart, p.lagMin = nowWall, lag
	} else if lag < p.lagMin {
		p.lagMin = lag
	}
	return p.haveLagPrev && min(p.lagPrev, p.lagMin) > p.reanchor
}

// extractDTS returns the decode time of an access unit. A fresh extractor
// starts every run, fed the parameter sets with the key frame, so streams
// whose parameter sets are only in the SDP work too. The extractor is
// library code fed camera bytes: a panic in it becomes an error.
func (p *Pipeline) extractDTS(nalus [][]byte, pts int64, key bool) (dts int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.dts = nil
			err = fmt.Errorf("decode-time extraction failed on malformed input: %v", r)
		}
	}()
	if p.dts == nil || !p.inRun {
		switch p.track.Codec {
		case media.CodecH264:
			var d h264.DTSExtractor
			d.Initialize()
			p.dts = &d
		default:
			var d h265.DTSExtractor
			d.Initialize()
			p.dts = &d
		}
	}
	au := p.scratch[:0]
	if key {
		if p.track.Codec == media.CodecH265 {
			au = append(au, p.params.VPS)
		}
		au = append(au, p.params.SPS, p.params.PPS)
	}
	for _, n := range nalus {
		if k := classify(p.track.Codec, n); k == kindVCL || k == kindKey || k == kindOther {
			au = append(au, n)
		}
	}
	dts, err = p.dts.Extract(au, pts)
	clear(au) // keep no frame's bytes alive until the next key frame
	p.scratch = au[:0]
	if err != nil {
		p.dts = nil
	}
	return dts, err
}

func (p *Pipeline) setParam(dst *[]byte, n []byte) {
	if !bytes.Equal(*dst, n) {
		*dst = clone(n)
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// SenderReport records an RTCP sender report received at now: the mapping
// of the camera's RTP time to its wall clock, and its offset and drift
// against the server clock. It never changes Wall: the server clock is
// authoritative (docs/design/ingest.md).
func (p *Pipeline) SenderReport(sr *rtcp.SenderReport, now time.Time) {
	cam := ntpTime(sr.NTPTime)
	m := ClockMapping{
		At:         now,
		CameraTime: cam,
		RTP:        sr.RTPTime,
		Offset:     cam.Sub(now),
		WallAhead:  p.mapping.WallAhead,
	}
	if p.firstSR == nil {
		first := m
		p.firstSR = &first
	} else if el := now.Sub(p.firstSR.At); el > 0 {
		camEl := cam.Sub(p.firstSR.CameraTime)
		rtpEl := time.Duration(int64(int32(sr.RTPTime-p.firstSR.RTP))) * time.Second / media.Hz
		m.CameraDriftPPM = float64(camEl-el) / float64(el) * 1e6
		m.RTPDriftPPM = float64(rtpEl-el) / float64(el) * 1e6
	}
	p.mapping = m
}

// ntpTime converts a 64-bit NTP timestamp (seconds since 1900 in the high
// word, fraction in the low) to a time.Time.
func ntpTime(v uint64) time.Time {
	const ntpEpochOffset = 2208988800
	secs := int64(v>>32) - ntpEpochOffset
	frac := int64(v & 0xffffffff)
	return time.Unix(secs, frac*1e9>>32)
}
