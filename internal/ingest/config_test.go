package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/sdp"

	"github.com/gwanje/gwanje/internal/media"
)

func TestCameraValidate(t *testing.T) {
	good := Camera{ID: "gate", URL: "rtsp://10.0.0.5:554/stream1"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cam  Camera
		want string
	}{
		{Camera{URL: "rtsp://h/"}, "camera id is empty"},
		{Camera{ID: "c", URL: "http://h/"}, "scheme must be rtsp"},
		{Camera{ID: "c", URL: "rtsp:///x"}, "no host"},
		{Camera{ID: "c", URL: "rtsp://h/", Transport: "sctp"}, `transport "sctp"`},
		{Camera{ID: "c", URL: "rtsp://h/", BackoffMin: 10, BackoffMax: 5}, "backoff max"},
		{Camera{ID: "c", URL: "rtsp://admin:hunter22@h/%zz"}, "not a valid URL"},
	} {
		err := tc.cam.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tc.cam.ID, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("password in error %q", err)
		}
	}
}

func TestRedact(t *testing.T) {
	r := newRedactor(Camera{URL: "rtsp://admin:urlpass@cam/", Password: "p@ss w0rd"})
	for in, want := range map[string]string{
		"dial rtsp://admin:urlpass@cam:554/x: refused": "dial rtsp://admin:xxxxx@cam:554/x: refused",
		"rtsp://u:other@h/ and rtsp://h/":              "rtsp://u:xxxxx@h/ and rtsp://h/",
		"bad password p@ss w0rd here":                  "bad password xxxxx here",
		"escaped p%40ss+w0rd":                          "escaped xxxxx",
	} {
		if got := r.String(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Real camera SDP shapes (testdata/ingest/sdp): the video is found wherever
// it is listed, audio is never chosen, and an SDP without supported video
// is an error naming what was offered.
func TestSDPFixtures(t *testing.T) {
	for file, want := range map[string]struct {
		codec    media.Codec
		params   bool
		errorHas string
	}{
		"audio-first-h264.sdp": {codec: media.CodecH264, params: true},
		"h265-no-sprop.sdp":    {codec: media.CodecH265},
		"mjpeg-then-h264.sdp":  {codec: media.CodecH264},
		"audio-only.sdp":       {errorHas: "offered: [audio/G711]"},
	} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ingest", "sdp", file))
			if err != nil {
				t.Fatal(err)
			}
			var sd sdp.SessionDescription
			if err := sd.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			var desc description.Session
			if err := desc.Unmarshal(&sd); err != nil {
				t.Fatal(err)
			}
			medi, _, track, err := pickVideo(&desc)
			if want.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), want.errorHas) {
					t.Fatalf("error %v, want it to contain %q", err, want.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if medi.Type != description.MediaTypeVideo || track.Codec != want.codec {
				t.Fatalf("picked %s %v, want video %v", medi.Type, track.Codec, want.codec)
			}
			if track.Params.Complete() != want.params {
				t.Fatalf("SDP params complete = %v, want %v", track.Params.Complete(), want.params)
			}
		})
	}
}
