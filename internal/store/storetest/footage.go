package storetest

import (
	"fmt"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// Footage writes n segments of camera into st, each exactly segDur long,
// the first starting at start (90 kHz wall clock), back to back: a key
// frame, a tiny delta frame half-way, then a Break. The frames are a few
// bytes (with the H.264 clip's parameter sets), so a fixture of hundreds of
// thousands of segments stays small; with store.OpenFixture it is written
// quickly. Every segment but the first follows a discontinuity (the Break).
// It returns once the camera's writer is closed and its segments are closed
// in the index.
func Footage(st *store.Store, camera string, start int64, segDur time.Duration, n int) error {
	const op = "storetest.Footage"
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		return errs.E(op, err)
	}
	w, err := st.Writer(camera)
	if err != nil {
		return errs.E(op, err)
	}
	d := int64(segDur) * media.Hz / int64(time.Second)
	key := media.Frame{Key: true, Params: c.Params, Data: []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}}
	delta := media.Frame{Params: c.Params, Data: []byte{0, 0, 0, 3, 0x41, 0x9a, 0x02}}
	for i := range n {
		key.Wall = start + int64(i)*d
		delta.Wall = key.Wall + d/2
		if err := w.WriteFrame(&key); err != nil {
			w.Close()
			return errs.E(op, err)
		}
		if err := w.WriteFrame(&delta); err != nil {
			w.Close()
			return errs.E(op, err)
		}
		w.Break("fixture segment end")
	}
	return w.Close()
}

// Frames returns n frames of codec's sample clip (internal/clip, looping
// with continuing timestamps) from wall clock start (90 kHz), as the
// recorder hands them over: parameter sets in Params, not in the frames.
func Frames(codec media.Codec, start int64, n int) ([]*media.Frame, error) {
	const op = "storetest.Frames"
	c, err := clip.Load(codec)
	if err != nil {
		return nil, errs.E(op, err)
	}
	out := make([]*media.Frame, n)
	for i := range n {
		au := c.AUs[i%len(c.AUs)]
		var nalus [][]byte
		for _, nal := range au.NALUs {
			if _, isParam := media.ExtractParams(codec, [][]byte{nal}); !isParam {
				nalus = append(nalus, nal)
			}
		}
		data, err := media.ToAVCC(nalus)
		if err != nil {
			return nil, errs.E(op, err)
		}
		out[i] = &media.Frame{Wall: start + int64(i)*clip.FrameDuration, Key: au.Key, Params: c.Params, Data: data}
	}
	return out, nil
}

// Clip writes n frames of codec's sample clip through w (Frames) and
// returns the wall clock end of the last frame.
func Clip(w *store.Writer, codec media.Codec, start int64, n int) (int64, error) {
	const op = "storetest.Clip"
	fs, err := Frames(codec, start, n)
	if err != nil {
		return 0, errs.E(op, err)
	}
	for i, f := range fs {
		if err := w.WriteFrame(f); err != nil {
			return 0, errs.E(op, fmt.Errorf("frame %d: %w", i, err))
		}
	}
	return start + int64(n)*clip.FrameDuration, nil
}
