package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"

	"github.com/gwanje/gwanje/internal/errs"
)

// Limits of a playback MP4. The file uses 32-bit boxes throughout (stco
// chunk offsets, mdat size, mdhd duration), as mediacommon's pmp4 writes
// them. The playback layer must split longer spans into several files.
const (
	// MaxFileSize is the largest playback MP4 in bytes: 4 GiB - 1. At
	// 2 Mbit/s that is about 4 h 46 min of video; at 8 Mbit/s about 1 h
	// 11 min.
	MaxFileSize = math.MaxUint32
	// MaxDuration is the longest playback MP4 in 90 kHz units: 2^32 - 1
	// ticks, about 13 h 15 min. A recording gap stretched into one
	// sample's duration counts in full.
	MaxDuration = math.MaxUint32
)

// Sample is one frame of a playback MP4, as the playback layer lists it from
// the stored segments.
type Sample struct {
	// Duration is the time until the next sample in 90 kHz units. The
	// playback layer stretches the last frame before a recording gap over
	// the gap, so the MP4 timeline equals wall-clock time.
	Duration uint32
	// PTSOffset is presentation minus decode time in 90 kHz units.
	PTSOffset int32
	// Key marks a random access point.
	Key bool
	// Size is the length of the stored frame bytes (MP4 sample form).
	Size uint32
	// Params are the parameter sets in force for the frame; nil means the
	// file's. On a key frame whose Params differ from the file's (and on
	// the key frame that returns to the file's), the parameter sets are
	// written in-band before the frame and counted in its size. Params are
	// read on key frames only.
	Params *Params
}

// FetchFunc returns the stored bytes of sample i, exactly Samples[i].Size
// long. The File copies the bytes, so the function may reuse its buffer once
// it is called again. It must be safe to call from several goroutines.
type FetchFunc func(i int) ([]byte, error)

// File is a playback MP4 assembled on the fly: the header (ftyp, moov and the
// mdat header) is built up front, and sample bytes are fetched only when a
// read touches them. It implements io.ReaderAt; NewReader gives the
// io.ReadSeeker that http.ServeContent wants. Safe for concurrent use.
type File struct {
	header   []byte
	size     int64
	duration int64
	starts   []int64        // starts[i] is sample i's file offset; starts[n] == size
	prefix   map[int][]byte // in-band parameter sets written before sample i
	sizes    []uint32       // stored sizes, to check what fetch returns
	fetch    FetchFunc

	mu      sync.Mutex // guards the one-sample cache below
	lastIdx int
	lastBuf []byte
}

// errHeaderDone stops pmp4's Marshal once it has written the header.
var errHeaderDone = errors.New("header done")

// NewFile builds the header of a playback MP4 of samples, whose sample entry
// holds params. The first sample must be a key frame. It fails with
// errs.TooLarge when the file would exceed MaxFileSize or MaxDuration, and
// errs.Invalid on bad input, naming the sample.
func NewFile(params *Params, samples []Sample, fetch FetchFunc) (*File, error) {
	const op = "media.NewFile"
	if !params.Complete() {
		return nil, errs.E(op, errs.Invalid, "incomplete parameter sets")
	}
	if len(samples) == 0 {
		return nil, errs.E(op, errs.Invalid, "no samples")
	}
	if !samples[0].Key {
		return nil, errs.E(op, errs.Invalid, "sample 0 is not a key frame")
	}
	if fetch == nil {
		return nil, errs.E(op, errs.Invalid, "no fetch function")
	}
	codec, err := params.mp4Codec()
	if err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}

	f := &File{
		prefix:  map[int][]byte{},
		sizes:   make([]uint32, len(samples)),
		starts:  make([]int64, len(samples)+1),
		fetch:   fetch,
		lastIdx: -1,
	}
	// One in-band prefix per distinct Params, shared between samples.
	prefixes := map[*Params][]byte{}
	payload := make([]uint32, len(samples)) // sizes as written, prefix included
	var data, dur int64
	cur := params // the parameter sets a decoder reading in order holds
	for i, s := range samples {
		if s.Size == 0 {
			return nil, errs.Errorf(op, errs.Invalid, "sample %d is empty", i)
		}
		if s.Params != nil && s.Params.Codec != params.Codec {
			return nil, errs.Errorf(op, errs.Invalid, "sample %d is %v in a %v file", i, s.Params.Codec, params.Codec)
		}
		size := int64(s.Size)
		if s.Key {
			p := s.Params
			if p == nil {
				p = params
			}
			// In-band parameter sets on a key frame whose parameters
			// differ from the sample entry's (a decoder that seeks here
			// knows only the entry's), and on the key frame that
			// switches back to the entry's (the decoder still holds
			// the others under the same ids).
			if p != cur && !p.Equal(cur) || p != params && !p.Equal(params) {
				pre, ok := prefixes[p]
				if !ok {
					pre = AppendAVCC(nil, p.ParamNALUs())
					prefixes[p] = pre
				}
				f.prefix[i] = pre
				size += int64(len(pre))
			}
			cur = p
		}
		if size > math.MaxUint32 {
			return nil, errs.Errorf(op, errs.TooLarge, "sample %d is %d bytes", i, size)
		}
		data += size
		dur += int64(s.Duration)
		if data > MaxFileSize {
			return nil, errs.Errorf(op, errs.TooLarge,
				"the MP4 would exceed %d bytes at sample %d of %d: split the span", int64(MaxFileSize), i, len(samples))
		}
		if dur > MaxDuration {
			return nil, errs.Errorf(op, errs.TooLarge,
				"the MP4 would exceed %d ticks (90 kHz) at sample %d of %d: split the span", int64(MaxDuration), i, len(samples))
		}
		f.sizes[i] = s.Size
		payload[i] = uint32(size)
	}
	hdr, err := buildHeader(codec, samples, payload, dur, data)
	if errors.Is(err, errTooLarge) {
		return nil, errs.Errorf(op, errs.TooLarge, "the MP4 would exceed %d bytes with its header: split the span", int64(MaxFileSize))
	}
	if err != nil {
		return nil, errs.E(op, errs.Internal, fmt.Errorf("building the header: %w", err))
	}
	f.header = hdr
	f.size = int64(len(f.header)) + data
	if f.size > MaxFileSize {
		return nil, errs.Errorf(op, errs.TooLarge, "the MP4 would be %d bytes, limit %d: split the span", f.size, int64(MaxFileSize))
	}
	// The header must end with an mdat header covering exactly the
	// samples, which then follow in order with no gaps (one chunk).
	h := f.header
	if len(h) < 8 || string(h[len(h)-4:]) != "mdat" ||
		int64(binary.BigEndian.Uint32(h[len(h)-8:])) != 8+data {
		return nil, errs.E(op, errs.Internal, "pmp4 header does not end with the expected mdat header")
	}
	off := int64(len(f.header))
	for i := range samples {
		f.starts[i] = off
		off += int64(payload[i])
	}
	f.starts[len(samples)] = off
	f.duration = dur
	return f, nil
}

// Size returns the exact size of the file in bytes.
func (f *File) Size() int64 { return f.size }

// Duration returns the sum of the sample durations in 90 kHz units.
func (f *File) Duration() int64 { return f.duration }

// HeaderSize returns the size of ftyp, moov and the mdat header: the offset
// of the first sample.
func (f *File) HeaderSize() int64 { return int64(len(f.header)) }

// NewReader returns an io.ReadSeeker over the whole file, for
// http.ServeContent. Each reader has its own position.
func (f *File) NewReader() *io.SectionReader { return io.NewSectionReader(f, 0, f.size) }

// ReadAt implements io.ReaderAt, fetching only the samples that
// [off, off+len(p)) touches.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	const op = "media.File.ReadAt"
	if off < 0 {
		return 0, errs.Errorf(op, errs.Invalid, "negative offset %d", off)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	n := 0
	if off < int64(len(f.header)) {
		n = copy(p, f.header[off:])
		off += int64(n)
	}
	// The last sample starting at or before off.
	i := sort.Search(len(f.sizes), func(i int) bool { return f.starts[i+1] > off })
	for n < len(p) && i < len(f.sizes) {
		b, err := f.sample(i)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], b[off-f.starts[i]:])
		n += c
		off += int64(c)
		i++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sample returns sample i as written in the file: in-band prefix and
// stored bytes.
func (f *File) sample(i int) ([]byte, error) {
	const op = "media.File.ReadAt"
	f.mu.Lock()
	if f.lastIdx == i {
		b := f.lastBuf
		f.mu.Unlock()
		return b, nil
	}
	f.mu.Unlock()
	b, err := f.fetch(i)
	if err != nil {
		return nil, errs.E(op, fmt.Errorf("sample %d: %w", i, err))
	}
	if len(b) != int(f.sizes[i]) {
		return nil, errs.Errorf(op, errs.Corrupt, "sample %d: fetched %d bytes, index says %d", i, len(b), f.sizes[i])
	}
	if pre := f.prefix[i]; pre != nil {
		b = append(append(make([]byte, 0, len(pre)+len(b)), pre...), b...)
	} else {
		// Copy: the fetch function may reuse its buffer after we return.
		b = append([]byte(nil), b...)
	}
	f.mu.Lock()
	f.lastIdx, f.lastBuf = i, b
	f.mu.Unlock()
	return b, nil
}
