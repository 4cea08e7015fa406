package media_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/gwanje/gwanje/internal/media"
)

// SetRecorded adds a udta box to moov: the chunk offsets must move with
// it, so every sample is still read from where the table says, and the
// times and the ©day text are where a reader looks for them.
func TestSetRecorded(t *testing.T) {
	fr := clipFrames(t, loadClip(t, media.CodecH264), 0, 60)
	file := fr.newFile(t)
	before := file.Size()
	at := time.Date(2026, 5, 1, 9, 0, 0, 250e6, time.FixedZone("KST", 9*3600))
	if err := file.SetRecorded(at); err != nil {
		t.Fatal(err)
	}
	whole := readAll(t, file)
	if int64(len(whole)) <= before {
		t.Fatalf("size %d, was %d", len(whole), before)
	}
	var p pmp4.Presentation
	if err := p.Unmarshal(bytes.NewReader(whole)); err != nil {
		t.Fatal(err)
	}
	for i, s := range p.Tracks[0].Samples {
		b, err := s.GetPayload()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, fr.data[i]) {
			t.Fatalf("sample %d: the bytes at the moved offset are not the frame", i)
		}
	}
	secs := uint32(at.Unix() + 2082844800) // seconds from 1904 to 1970
	for _, box := range []string{"mvhd", "tkhd", "mdhd"} {
		i := bytes.Index(whole, []byte(box))
		if i < 0 || binary.BigEndian.Uint32(whole[i+8:]) != secs || binary.BigEndian.Uint32(whole[i+12:]) != secs {
			t.Errorf("%s does not hold the recording time", box)
		}
	}
	if !bytes.Contains(whole, []byte("udta")) || !bytes.Contains(whole, []byte("\xa9day")) ||
		!bytes.Contains(whole, []byte("2026-05-01T09:00:00.250+09:00")) {
		t.Error("no udta/©day with the recording time")
	}
	if err := file.SetRecorded(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a time before 1904 was accepted")
	}
}
