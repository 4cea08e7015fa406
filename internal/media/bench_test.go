package media_test

import (
	"io"
	"testing"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
)

// hourOfSamples lists one hour of the H.264 clip at 25 fps: 90,000 samples,
// looping the clip's real frame sizes and key frames.
func hourOfSamples(b *testing.B) *frames {
	b.Helper()
	return clipFrames(b, loadClip(b, media.CodecH264), 0, 3600*25)
}

// BenchmarkNewFileHour measures building the header of a one-hour playback
// MP4 (90,000 samples): the time before the first byte can be served.
func BenchmarkNewFileHour(b *testing.B) {
	fr := hourOfSamples(b)
	b.ReportAllocs()
	var f *media.File
	for b.Loop() {
		var err error
		f, err = media.NewFile(fr.params, fr.samples, fr.fetch)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.HeaderSize()), "header-bytes")
}

// BenchmarkServeHour measures reading a one-hour playback MP4 from start to
// end the way http.ServeContent does (io.Copy in 32 KiB reads), with
// samples fetched from memory: the cost gwanje adds on top of storage.
func BenchmarkServeHour(b *testing.B) {
	fr := hourOfSamples(b)
	f, err := media.NewFile(fr.params, fr.samples, fr.fetch)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(f.Size())
	b.ReportAllocs()
	buf := make([]byte, 32<<10)
	for b.Loop() {
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f.NewReader()}, buf)
		if err != nil || n != f.Size() {
			b.Fatalf("copied %d of %d: %v", n, f.Size(), err)
		}
	}
}

// BenchmarkFragmentGOP measures encoding one second (one group of
// pictures) of live view.
func BenchmarkFragmentGOP(b *testing.B) {
	cl := loadClip(b, media.CodecH264)
	gop := make([]media.Frame, 25)
	var size int64
	for i := range gop {
		data, err := media.ToAVCC(cl.AUs[i].NALUs)
		if err != nil {
			b.Fatal(err)
		}
		gop[i] = media.Frame{Wall: int64(i) * clip.FrameDuration, Key: cl.AUs[i].Key, Params: cl.Params, Data: data}
		size += int64(len(data))
	}
	w, err := media.NewFragmenter(cl.Params)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(gop, 25*clip.FrameDuration); err != nil {
			b.Fatal(err)
		}
	}
}
