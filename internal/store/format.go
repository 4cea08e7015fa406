package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gwanje/gwanje/internal/media"
)

// FrameInfo describes one stored frame of a segment.
type FrameInfo struct {
	Wall      int64 // decode time, 90 kHz since the epoch
	Duration  int64 // 90 kHz, > 0
	PTSOffset int32 // presentation minus decode time, 90 kHz
	Key       bool
	Size      uint32 // bytes
}

// Format versions. Each is the first byte of its encoding; append-only.
const (
	chunkVersion = 1
	indexVersion = 1
)

// maxFrameSize bounds one stored frame.
const maxFrameSize = 16 << 20

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func ptsKey(f *FrameInfo) uint64 {
	v := zigzag(int64(f.PTSOffset)) << 1
	if f.Key {
		v |= 1
	}
	return v
}

// appendChunkHeader appends the plaintext header of a chunk holding frames;
// the frame bytes follow it.
func appendChunkHeader(dst []byte, frames []FrameInfo) []byte {
	dst = append(dst, chunkVersion)
	dst = binary.AppendUvarint(dst, zigzag(frames[0].Wall))
	dst = binary.AppendUvarint(dst, uint64(len(frames)))
	for i := range frames {
		dst = binary.AppendUvarint(dst, uint64(frames[i].Duration))
		dst = binary.AppendUvarint(dst, ptsKey(&frames[i]))
		dst = binary.AppendUvarint(dst, uint64(frames[i].Size))
	}
	return dst
}

// reader decodes varints with a sticky error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("bad or truncated %s", what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("missing %s", what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// count reads a count whose items need at least min bytes each, so that a
// lying count cannot make the decoder allocate more than the input allows.
func (r *reader) count(what string, min int) int {
	v := r.uvarint(what)
	if r.err == nil && v > uint64(len(r.b)/min) {
		r.err = fmt.Errorf("%s %d is more than the %d remaining bytes can hold", what, v, len(r.b))
		return 0
	}
	return int(v)
}

func (r *reader) frame(f *FrameInfo) {
	d := r.uvarint("duration")
	pk := r.uvarint("pts offset")
	sz := r.uvarint("size")
	if r.err != nil {
		return
	}
	r.err = setFrame(f, d, pk, sz)
}

// setFrame checks a frame's three encoded values (duration, PTS offset
// zigzagged with the key flag in bit 0, size) and fills f from them.
func setFrame(f *FrameInfo, d, pk, sz uint64) error {
	pts := unzigzag(pk >> 1)
	switch {
	case d == 0 || d > 1<<40:
		return fmt.Errorf("frame duration %d out of range", d)
	case pts < -1<<31 || pts >= 1<<31:
		return fmt.Errorf("pts offset %d out of range", pts)
	case sz == 0 || sz > maxFrameSize:
		return fmt.Errorf("frame size %d out of range", sz)
	}
	f.Duration, f.PTSOffset, f.Key, f.Size = int64(d), int32(pts), pk&1 == 1, uint32(sz)
	return nil
}

// decodeChunk decodes a chunk's plaintext into its frames (with walls) and
// the frame bytes, which alias p. frames is reused.
func decodeChunk(p []byte, frames []FrameInfo) ([]FrameInfo, []byte, error) {
	r := &reader{b: p}
	if v := r.byte("chunk version"); r.err == nil && v != chunkVersion {
		return nil, nil, fmt.Errorf("chunk plaintext version %d unknown", v)
	}
	wall := unzigzag(r.uvarint("chunk start"))
	n := r.count("frame count", 3)
	if r.err == nil && n == 0 {
		r.err = errors.New("chunk has no frames")
	}
	frames = frames[:0]
	var total uint64
	for i := 0; i < n && r.err == nil; i++ {
		var f FrameInfo
		r.frame(&f)
		f.Wall = wall
		wall += f.Duration
		total += uint64(f.Size)
		frames = append(frames, f)
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("chunk plaintext: %v", r.err)
	}
	if total != uint64(len(r.b)) {
		return nil, nil, fmt.Errorf("chunk plaintext: frame sizes add up to %d, %d bytes follow", total, len(r.b))
	}
	return frames, r.b, nil
}

// chunkInfo is one entry of a segment's chunk table.
type chunkInfo struct {
	First  int   // index of the chunk's first frame
	Frames int   // frames in the chunk
	Offset int64 // of the chunk's length prefix in the file
	Size   int64 // bytes on disk, length prefix included
}

// encodeIndex encodes a segment's frame index blob.
func encodeIndex(frames []FrameInfo, chunks []chunkInfo) []byte {
	b := make([]byte, 0, 1+len(frames)*6+len(chunks)*4+8)
	b = append(b, indexVersion)
	b = binary.AppendUvarint(b, uint64(len(frames)))
	for i := range frames {
		b = binary.AppendUvarint(b, uint64(frames[i].Duration))
		b = binary.AppendUvarint(b, uint64(frames[i].Size))
		b = binary.AppendUvarint(b, ptsKey(&frames[i]))
	}
	b = binary.AppendUvarint(b, uint64(len(chunks)))
	for _, c := range chunks {
		b = binary.AppendUvarint(b, uint64(c.Frames))
		b = binary.AppendUvarint(b, uint64(c.Size))
	}
	return b
}

// decodeIndex decodes a frame index blob of a segment starting at start,
// whose chunks begin at offset first. It checks the chunk table against
// the frames.
func decodeIndex(b []byte, start, first int64) ([]FrameInfo, []chunkInfo, error) {
	r := &reader{b: b}
	if v := r.byte("index version"); r.err == nil && v != indexVersion {
		return nil, nil, fmt.Errorf("frame index version %d unknown", v)
	}
	n := r.count("frame count", 3)
	frames := make([]FrameInfo, 0, n)
	wall := start
	for i := 0; i < n && r.err == nil; i++ {
		var f FrameInfo
		d := r.uvarint("duration")
		sz := r.uvarint("size")
		pk := r.uvarint("pts offset")
		if r.err != nil {
			break
		}
		// The chunk frame checks, on the same three values.
		if err := setFrame(&f, d, pk, sz); err != nil {
			r.err = fmt.Errorf("frame %d: %v", i, err)
			break
		}
		f.Wall = wall
		wall += f.Duration
		frames = append(frames, f)
	}
	c := r.count("chunk count", 2)
	chunks := make([]chunkInfo, 0, c)
	off, next := first, 0
	for i := 0; i < c && r.err == nil; i++ {
		nf := r.uvarint("chunk frames")
		sz := r.uvarint("chunk size")
		if r.err != nil {
			break
		}
		if nf == 0 || nf > uint64(n-next) {
			r.err = fmt.Errorf("chunk %d: %d frames, %d left", i, nf, n-next)
			break
		}
		if sz < 20 || sz > 1<<40 {
			r.err = fmt.Errorf("chunk %d: size %d out of range", i, sz)
			break
		}
		chunks = append(chunks, chunkInfo{First: next, Frames: int(nf), Offset: off, Size: int64(sz)})
		next += int(nf)
		off += int64(sz)
	}
	if r.err == nil && next != n {
		r.err = fmt.Errorf("chunk table covers %d of %d frames", next, n)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the chunk table", len(r.b))
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("frame index: %v", r.err)
	}
	return frames, chunks, nil
}

// paramsVersion is the first byte of encoded parameters. Append-only.
const paramsVersion = 1

// encodeParams encodes codec parameters for sealing: version, codec, then
// VPS, SPS and PPS each with a uvarint length.
func encodeParams(p *media.Params) []byte {
	b := []byte{paramsVersion, byte(p.Codec)}
	for _, ps := range [][]byte{p.VPS, p.SPS, p.PPS} {
		b = binary.AppendUvarint(b, uint64(len(ps)))
		b = append(b, ps...)
	}
	return b
}

func decodeParams(b []byte) (*media.Params, error) {
	r := &reader{b: b}
	if v := r.byte("params version"); r.err == nil && v != paramsVersion {
		return nil, fmt.Errorf("params version %d unknown", v)
	}
	p := &media.Params{Codec: media.Codec(r.byte("codec"))}
	for _, dst := range []*[]byte{&p.VPS, &p.SPS, &p.PPS} {
		n := r.count("parameter set length", 1)
		if r.err != nil {
			break
		}
		if n > 0 {
			*dst = append([]byte(nil), r.b[:n]...)
		}
		r.b = r.b[n:]
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the parameter sets", len(r.b))
	}
	if r.err != nil {
		return nil, fmt.Errorf("params: %v", r.err)
	}
	if !p.Complete() {
		return nil, fmt.Errorf("params: incomplete for codec %v", p.Codec)
	}
	return p, nil
}
