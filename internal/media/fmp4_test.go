package media_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// liveFrames turns n frames of the clip, looping, into ingest Frames on a
// wall clock starting at wall0.
func liveFrames(t *testing.T, cl *clip.Clip, n int, wall0 int64) []media.Frame {
	t.Helper()
	out := make([]media.Frame, n)
	for i := range out {
		au := cl.AUs[i%len(cl.AUs)]
		data, err := media.ToAVCC(au.NALUs)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = media.Frame{Wall: wall0 + int64(i)*clip.FrameDuration, Key: au.Key, Params: cl.Params, Data: data}
	}
	return out
}

// gops splits frames at key frames.
func gops(frames []media.Frame) [][]media.Frame {
	var out [][]media.Frame
	for i, f := range frames {
		if f.Key || i == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], f)
	}
	return out
}

// TestFragmentsPlay writes the init segment and one fragment per group of
// pictures, and some single-frame fragments, for both clips, and checks the
// concatenation with ffprobe and ffmpeg.
func TestFragmentsPlay(t *testing.T) {
	needTool(t, "ffprobe")
	needTool(t, "ffmpeg")
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		t.Run(c.String(), func(t *testing.T) {
			cl := loadClip(t, c)
			wall0 := media.Time90k(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
			frames := liveFrames(t, cl, 300, wall0)
			init, err := media.Init(cl.Params)
			if err != nil {
				t.Fatal(err)
			}
			w, err := media.NewFragmenter(cl.Params)
			if err != nil {
				t.Fatal(err)
			}
			var stream bytes.Buffer
			stream.Write(init)
			groups := gops(frames)
			// The last GOP goes out frame by frame, as a low-latency
			// viewer would get it.
			last := groups[len(groups)-1]
			groups = groups[:len(groups)-1]
			for _, f := range last {
				groups = append(groups, []media.Frame{f})
			}
			var wantBase uint64
			for gi, g := range groups {
				end := wall0 + int64(300)*clip.FrameDuration
				if gi+1 < len(groups) {
					end = groups[gi+1][0].Wall
				}
				frag, err := w.Write(g, end)
				if err != nil {
					t.Fatalf("group %d: %v", gi, err)
				}
				if frag.Init != nil {
					t.Fatalf("group %d: new init segment without a parameter change", gi)
				}
				var parts fmp4.Parts
				if err := parts.Unmarshal(frag.Data); err != nil {
					t.Fatalf("group %d: %v", gi, err)
				}
				tr := parts[0].Tracks[0]
				if parts[0].SequenceNumber != uint32(gi+1) || tr.BaseTime != wantBase || len(tr.Samples) != len(g) {
					t.Fatalf("group %d: sequence %d base %d with %d samples, want %d, %d, %d",
						gi, parts[0].SequenceNumber, tr.BaseTime, len(tr.Samples), gi+1, wantBase, len(g))
				}
				wantBase += uint64(end - g[0].Wall)
				stream.Write(frag.Data)
			}
			if w.DecodeTime() != 300*clip.FrameDuration {
				t.Errorf("DecodeTime %d after 300 frames, want %d", w.DecodeTime(), 300*clip.FrameDuration)
			}
			path := writeTemp(t, "live.mp4", stream.Bytes())
			if got := probePackets(t, path); got != 300 {
				t.Errorf("ffprobe counts %d samples, want 300", got)
			}
			decodeClean(t, path)
		})
	}
}

func TestFragmenterParamChange(t *testing.T) {
	cl := loadClip(t, media.CodecH264)
	frames := liveFrames(t, cl, 50, 0)
	w, err := media.NewFragmenter(cl.Params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(frames[:25], frames[25].Wall); err != nil {
		t.Fatal(err)
	}
	other := &media.Params{Codec: media.CodecH264, SPS: append([]byte(nil), cl.Params.SPS...), PPS: cl.Params.PPS}
	other.SPS[len(other.SPS)-1] ^= 1

	// A change on a non-key frame, or in the middle of a group, is refused
	// and leaves the fragmenter as it was.
	bad := append([]media.Frame(nil), frames[25:50]...)
	bad[3].Params = other
	if _, err := w.Write(bad, 50*clip.FrameDuration); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "frame 3") {
		t.Errorf("change mid-group: %v, want Invalid naming frame 3", err)
	}
	bad = append([]media.Frame(nil), frames[26:50]...)
	bad[0].Params = other
	if _, err := w.Write(bad, 50*clip.FrameDuration); !errs.Is(err, errs.Invalid) {
		t.Errorf("change on a delta frame: %v, want Invalid", err)
	}
	if w.Params() != cl.Params || w.DecodeTime() != 25*clip.FrameDuration {
		t.Fatalf("a refused write changed the fragmenter")
	}

	// A change on a key frame starting a group brings a new init segment,
	// and the decode time runs on.
	good := append([]media.Frame(nil), frames[25:50]...)
	for i := range good {
		good[i].Params = other
	}
	frag, err := w.Write(good, 50*clip.FrameDuration)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := media.Init(other)
	if !bytes.Equal(frag.Init, want) || w.Params() != other {
		t.Errorf("no new init segment for the changed parameters")
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(frag.Data); err != nil {
		t.Fatal(err)
	}
	if got := parts[0].Tracks[0].BaseTime; got != 25*clip.FrameDuration {
		t.Errorf("base time after the change %d, want %d", got, 25*clip.FrameDuration)
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(frag.Init)); err != nil {
		t.Fatal(err)
	}
	if h, ok := init.Tracks[0].Codec.(*codecs.H264); !ok || !bytes.Equal(h.SPS, other.SPS) || init.Tracks[0].TimeScale != media.Hz {
		t.Errorf("new init segment's track %+v does not carry the new SPS at 90 kHz", init.Tracks[0])
	}
}

func TestFragmenterRejects(t *testing.T) {
	cl := loadClip(t, media.CodecH264)
	frames := liveFrames(t, cl, 3, 1000)
	w, _ := media.NewFragmenter(cl.Params)
	for name, tc := range map[string]struct {
		frames []media.Frame
		end    int64
		want   string
	}{
		"no frames":       {nil, 0, "no frames"},
		"end not after":   {frames, frames[2].Wall, "frame 2 lasts 0 ticks"},
		"time backwards":  {[]media.Frame{frames[1], frames[0]}, 5000, "frame 0 lasts -3600 ticks"},
		"empty frame":     {[]media.Frame{{Wall: 1, Key: true}}, 5000, "frame 0 is empty"},
		"over 2^32 ticks": {frames[:1], frames[0].Wall + 1<<32, "frame 0 lasts"},
	} {
		if _, err := w.Write(tc.frames, tc.end); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want Invalid containing %q", name, err, tc.want)
		}
	}
	if _, err := media.NewFragmenter(&media.Params{Codec: media.CodecH265}); !errs.Is(err, errs.Invalid) {
		t.Errorf("incomplete params: %v", err)
	}
	if _, err := media.Init(nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("Init(nil): %v", err)
	}
}
