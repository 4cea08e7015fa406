package playback

import (
	"context"
	"io"
	"testing"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// fakeSource serves segments cut from the H.264 sample clip.
type fakeSource struct {
	segs   []store.Segment
	frames map[int64][]store.FrameInfo
	data   map[int64][][]byte
	params *media.Params
	opened int
	closed int
}

type fakeData struct {
	src *fakeSource
	id  int64
}

func (d *fakeData) Params() *media.Params           { return d.src.params }
func (d *fakeData) Frames() []store.FrameInfo       { return d.src.frames[d.id] }
func (d *fakeData) ReadFrame(i int) ([]byte, error) { return d.src.data[d.id][i], nil }
func (d *fakeData) Close() error                    { d.src.closed++; return nil }

func (s *fakeSource) Segments(_ context.Context, _ string, start, end int64) ([]store.Segment, error) {
	var out []store.Segment
	for _, sg := range s.segs {
		if sg.End > start && sg.Start < end {
			out = append(out, sg)
		}
	}
	return out, nil
}

func (s *fakeSource) Open(_ context.Context, id int64) (SegmentData, error) {
	s.opened++
	return &fakeData{s, id}, nil
}

// newFake builds segments of n frames each starting at the given wall
// times (90 kHz), from consecutive clip frames.
func newFake(t *testing.T, starts []int64, n int) *fakeSource {
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSource{frames: map[int64][]store.FrameInfo{}, data: map[int64][][]byte{}, params: c.Params}
	k := 0
	for id, st := range starts {
		id := int64(id + 1)
		for i := 0; i < n; i++ {
			au := c.AUs[k%len(c.AUs)]
			k++
			b, err := media.ToAVCC(au.NALUs)
			if err != nil {
				t.Fatal(err)
			}
			s.frames[id] = append(s.frames[id], store.FrameInfo{
				Wall: st + int64(i)*clip.FrameDuration, Duration: clip.FrameDuration,
				Key: au.Key, Size: uint32(len(b)),
			})
			s.data[id] = append(s.data[id], b)
		}
		s.segs = append(s.segs, store.Segment{ID: id, Start: st, End: st + int64(n)*clip.FrameDuration})
	}
	return s
}

func TestBuildStartsAtKeyFrameAndHoldsOverGaps(t *testing.T) {
	const sec = media.Hz
	t0 := int64(1_800_000_000) * sec
	// Two 2 s segments (50 frames, key frames every 25) with a 3 s gap.
	src := newFake(t, []int64{t0, t0 + 5*sec}, 50)
	// Ask from 1.5 s (mid-GOP) to 6 s.
	c, err := Build(context.Background(), src, "cam", t0+sec+sec/2, t0+6*sec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Start != t0+sec {
		t.Errorf("clip starts at %d, want the key frame at %d", c.Start-t0, sec)
	}
	if c.End != t0+6*sec {
		t.Errorf("clip ends at %d, want %d", c.End-t0, 6*sec)
	}
	if len(c.Gaps) != 1 || c.Gaps[0] != (Gap{t0 + 2*sec, t0 + 5*sec}) {
		t.Errorf("gaps = %v", c.Gaps)
	}
	// The MP4 timeline is wall-clock time: gaps held, not dropped.
	if c.File.Duration() != c.End-c.Start {
		t.Errorf("file duration %d, want %d", c.File.Duration(), c.End-c.Start)
	}
	if c.Frames != 25+25 {
		t.Errorf("%d frames, want 50", c.Frames)
	}
	// Every byte of the file can be read.
	if _, err := io.Copy(io.Discard, c.File.NewReader()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if src.closed != src.opened {
		t.Errorf("opened %d segments, closed %d", src.opened, src.closed)
	}
}

func TestBuildNoFootage(t *testing.T) {
	const sec = media.Hz
	src := newFake(t, []int64{100 * sec}, 50)
	_, err := Build(context.Background(), src, "cam", 200*sec, 300*sec)
	if !errs.Is(err, errs.NotExist) {
		t.Fatalf("err = %v, want NotExist", err)
	}
	_, err = Build(context.Background(), src, "cam", 300*sec, 200*sec)
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
}
