package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"
)

// The header of a playback MP4 is mediacommon's (pmp4), byte for byte
// (TestHeaderIsMediacommons), built in two parts:
//
//   - everything but the sample tables — ftyp, mvhd, tkhd, edts/elst, mdhd,
//     hdlr, vmhd, dinf and the codec's sample entry in stsd — comes from
//     pmp4, which marshals a one-sample presentation whose one sample lasts
//     as long as all of them (every duration in those boxes depends on the
//     sum of the durations and the first sample's composition offset only);
//   - the sample tables (stts, stss, ctts, stsc, stsz, stco), which end
//     moov, are written here as the flat big-endian arrays ISO/IEC
//     14496-12 §8.6–8.7 define, with the same run-length grouping pmp4 uses.
//
// pmp4 writes those tables through go-mp4's reflective marshaller, one field
// at a time: 13 ms for the 15,000 samples of a ten-minute view, the largest
// part of the time between a seek and its first byte (docs/benchmarks.md).
// Written directly they take a few hundred microseconds.

// headerBoxPath is where the sample tables sit: moov/trak/mdia/minf/stbl,
// each the last child of its parent in what pmp4 writes for one track.
var headerBoxPath = [...]string{"moov", "trak", "mdia", "minf", "stbl"}

// buildHeader returns ftyp, moov and the mdat header of a one-track MP4 whose
// samples follow the header in one chunk. payload[i] is the size of sample i
// as written (in-band prefix included); dur is the sum of the durations and
// data the sum of payload.
func buildHeader(codec codecs.Codec, samples []Sample, payload []uint32, dur, data int64) ([]byte, error) {
	tmpl, err := headerTemplate(codec, samples[0].PTSOffset, dur)
	if err != nil {
		return nil, err
	}
	// Find the five boxes down to stbl and the first table inside it.
	var parents [len(headerBoxPath)]int // offset of each box's header
	off, end := 0, len(tmpl)
	for depth, name := range headerBoxPath {
		found := false
		for off+8 <= end {
			size := int(binary.BigEndian.Uint32(tmpl[off:]))
			if size < 8 || off+size > end {
				return nil, fmt.Errorf("template: bad box at offset %d", off)
			}
			if string(tmpl[off+4:off+8]) == name {
				if depth > 0 && off+size != end {
					return nil, fmt.Errorf("template: %s is not the last box of %s", name, headerBoxPath[depth-1])
				}
				parents[depth] = off
				found = true
				end = off + size
				off += 8
				break
			}
			off += size
		}
		if !found {
			return nil, fmt.Errorf("template: no %s box", name)
		}
	}
	// Inside stbl: stsd, then the tables to the end.
	stblEnd := end
	tables := -1
	for off+8 <= stblEnd {
		size := int(binary.BigEndian.Uint32(tmpl[off:]))
		if size < 8 || off+size > stblEnd {
			return nil, fmt.Errorf("template: bad box at offset %d", off)
		}
		if string(tmpl[off+4:off+8]) == "stts" {
			tables = off
			break
		}
		off += size
	}
	if tables < 0 {
		return nil, errors.New("template: no stts box")
	}
	moovEnd := parents[0] + int(binary.BigEndian.Uint32(tmpl[parents[0]:]))
	if stblEnd != moovEnd || moovEnd+8 != len(tmpl) || string(tmpl[moovEnd+4:]) != "mdat" {
		return nil, errors.New("template: moov does not end with stbl, or the mdat header does not follow")
	}

	n := len(samples)
	h := make([]byte, 0, tables+tablesSize(samples)+8)
	h = append(h, tmpl[:tables]...)

	// stts: runs of equal durations.
	h, at := startFullBox(h, "stts", 0)
	count := 0
	h = be32(h, 0) // entry count, filled below
	for i := 0; i < n; {
		j := i + 1
		for j < n && samples[j].Duration == samples[i].Duration {
			j++
		}
		h = be32(be32(h, uint32(j-i)), samples[i].Duration)
		count++
		i = j
	}
	binary.BigEndian.PutUint32(h[at+12:], uint32(count))
	h = endBox(h, at)

	// stss: the key frames' numbers, left out when every sample is one.
	keys := 0
	for _, s := range samples {
		if s.Key {
			keys++
		}
	}
	if keys != n {
		h, at = startFullBox(h, "stss", 0)
		h = be32(h, uint32(keys))
		for i, s := range samples {
			if s.Key {
				h = be32(h, uint32(i+1))
			}
		}
		h = endBox(h, at)
	}

	// ctts (version 1, signed offsets): runs of equal offsets.
	h, at = startFullBox(h, "ctts", 1)
	count = 0
	h = be32(h, 0)
	for i := 0; i < n; {
		j := i + 1
		for j < n && samples[j].PTSOffset == samples[i].PTSOffset {
			j++
		}
		h = be32(be32(h, uint32(j-i)), uint32(samples[i].PTSOffset))
		count++
		i = j
	}
	binary.BigEndian.PutUint32(h[at+12:], uint32(count))
	h = endBox(h, at)

	// stsc: one chunk holding every sample, sample entry 1.
	h, at = startFullBox(h, "stsc", 0)
	h = be32(be32(be32(be32(h, 1), 1), uint32(n)), 1)
	h = endBox(h, at)

	// stsz: every sample's size (no common size).
	h, at = startFullBox(h, "stsz", 0)
	h = be32(be32(h, 0), uint32(n))
	for _, p := range payload {
		h = be32(h, p)
	}
	h = endBox(h, at)

	// stco: the one chunk starts right after the mdat header.
	h, at = startFullBox(h, "stco", 0)
	h = be32(h, 1)
	stco := len(h)
	h = be32(h, 0)
	h = endBox(h, at)

	// The boxes on the path grew by as much as the tables did.
	grow := int64(len(h)) - int64(stblEnd)
	for _, p := range parents {
		size := int64(binary.BigEndian.Uint32(h[p:])) + grow
		if size > math.MaxUint32 {
			return nil, fmt.Errorf("the %s box would be %d bytes", tmpl[p+4:p+8], size)
		}
		binary.BigEndian.PutUint32(h[p:], uint32(size))
	}
	if int64(len(h))+8+data > MaxFileSize {
		return nil, errTooLarge
	}
	binary.BigEndian.PutUint32(h[stco:], uint32(len(h)+8))
	h = be32(h, uint32(8+data))
	h = append(h, "mdat"...)
	return h, nil
}

// errTooLarge tells NewFile that the header and data exceed MaxFileSize.
var errTooLarge = errors.New("file too large")

// headerTemplate marshals, through pmp4, the header of a one-sample file
// lasting dur with the given first composition offset.
func headerTemplate(codec codecs.Codec, ptsOffset int32, dur int64) ([]byte, error) {
	s := &pmp4.Sample{
		Duration:    uint32(dur),
		PTSOffset:   ptsOffset,
		PayloadSize: 0,
		GetPayload:  func() ([]byte, error) { return nil, errHeaderDone },
	}
	pres := pmp4.Presentation{Tracks: []*pmp4.Track{{
		ID:         1,
		TimeScale:  Hz,
		TimeOffset: -ptsOffset,
		Codec:      codec,
		Samples:    []*pmp4.Sample{s},
	}}}
	var b bytes.Buffer
	if err := pres.Marshal(&b); !errors.Is(err, errHeaderDone) {
		if err == nil {
			err = errors.New("pmp4 did not fetch a payload")
		}
		return nil, err
	}
	return b.Bytes(), nil
}

// tablesSize is an upper bound of the sample tables' size, to allocate once.
func tablesSize(samples []Sample) int {
	return 6*16 + 12*len(samples) + 8*len(samples) + 4*len(samples)
}

func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// startFullBox appends a full box header with a size to be filled by endBox
// and returns where the box starts.
func startFullBox(b []byte, typ string, version byte) ([]byte, int) {
	at := len(b)
	b = be32(b, 0)
	b = append(b, typ...)
	b = append(b, version, 0, 0, 0)
	return b, at
}

func endBox(b []byte, at int) []byte {
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at))
	return b
}
