package clip

import (
	"testing"

	"github.com/gwanje/gwanje/internal/media"
)

func TestLoad(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		c, err := Load(codec)
		if err != nil {
			t.Fatal(err)
		}
		// 10 s at 25 fps with a key frame every 25 frames.
		if len(c.AUs) != 250 {
			t.Errorf("%v: %d access units, want 250", codec, len(c.AUs))
		}
		for i, au := range c.AUs {
			if want := i%25 == 0; au.Key != want {
				t.Errorf("%v: AU %d key=%v, want %v", codec, i, au.Key, want)
			}
		}
		if c.Duration != 10*media.Hz {
			t.Errorf("%v: duration %d, want %d", codec, c.Duration, 10*media.Hz)
		}
		if !c.Params.Complete() {
			t.Errorf("%v: params incomplete", codec)
		}
	}
	if _, err := Load(media.CodecUnknown); err == nil {
		t.Error("Load(unknown) succeeded")
	}
}
