package media_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// goldenH264 is the SHA-256 of the MP4 built from the whole H.264 clip. It
// is brittle on purpose: any change in the bytes gwanje serves for playback
// must be noticed and the digest updated in the same commit.
const goldenH264 = "bbf4efecd5527f3dd5f65f9df608742765f43cffda51a903b2fe30724d9f795d"

func TestFileGolden(t *testing.T) {
	f := clipFrames(t, loadClip(t, media.CodecH264), 0, 250).newFile(t)
	sum := sha256.Sum256(readAll(t, f))
	if got := hex.EncodeToString(sum[:]); got != goldenH264 {
		t.Errorf("MP4 digest %s, pinned %s: if the format change is intended, update goldenH264", got, goldenH264)
	}
}

// TestFileLayout parses a built file back with mediacommon and checks that
// the sample table (order, sizes, offsets, sync flags, durations) points at
// the bytes ReadAt serves.
func TestFileLayout(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		fr := clipFrames(t, loadClip(t, c), 25, 60)
		fr.samples[29].Duration = 45 * media.Hz // a gap
		file := fr.newFile(t)
		whole := readAll(t, file)
		var p pmp4.Presentation
		if err := p.Unmarshal(bytes.NewReader(whole)); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if len(p.Tracks) != 1 || p.Tracks[0].TimeScale != media.Hz || len(p.Tracks[0].Samples) != len(fr.samples) {
			t.Fatalf("%v: unexpected tracks %+v", c, p.Tracks)
		}
		off := file.HeaderSize()
		for i, s := range p.Tracks[0].Samples {
			want := fr.samples[i]
			if s.Duration != want.Duration || s.IsNonSyncSample == want.Key || s.PayloadSize != want.Size {
				t.Fatalf("%v sample %d: got %+v, want %+v", c, i, s, want)
			}
			b, err := s.GetPayload()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, fr.data[i]) || !bytes.Equal(whole[off:off+int64(len(b))], b) {
				t.Fatalf("%v sample %d: bytes at the table's offset are not the frame", c, i)
			}
			off += int64(len(b))
		}
		if off != file.Size() {
			t.Errorf("%v: samples end at %d, file size %d", c, off, file.Size())
		}
		if want := int64(59*clip.FrameDuration + 45*media.Hz); file.Duration() != want {
			t.Errorf("%v: Duration %d, want %d", c, file.Duration(), want)
		}
	}
}

// TestFilePlays checks with ffprobe and ffmpeg that MP4s of several spans
// of both clips have the expected duration and decode without a message.
func TestFilePlays(t *testing.T) {
	needTool(t, "ffprobe")
	needTool(t, "ffmpeg")
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		cl := loadClip(t, c)
		// A request starting mid-GOP at frame 37 is rounded down to the
		// previous key frame, as the playback layer does.
		from := 37
		for !cl.AUs[from].Key {
			from--
		}
		if from != 25 {
			t.Fatalf("%v: key frame before 37 is %d, want 25", c, from)
		}
		for _, tc := range []struct {
			name     string
			from, n  int
			gapAfter int // sample whose duration is stretched by 30 s, or -1
		}{
			{"one frame", 0, 1, -1},
			{"whole clip", 0, len(cl.AUs), -1},
			{"mid-GOP start", from, 100 - from, -1},
			{"with a gap", 0, 100, 49},
			{"looped to 5 min", 0, 5 * 60 * 25, -1},
		} {
			t.Run(fmt.Sprintf("%v/%s", c, tc.name), func(t *testing.T) {
				fr := clipFrames(t, cl, tc.from, tc.n)
				want := float64(tc.n) / 25
				if tc.gapAfter >= 0 {
					fr.samples[tc.gapAfter].Duration += 30 * media.Hz
					want += 30
				}
				file := fr.newFile(t)
				path := writeTemp(t, "clip.mp4", readAll(t, file))
				if got := probeDuration(t, path); math.Abs(got-want) > 1.0/25 {
					t.Errorf("ffprobe duration %.3f s, want %.3f s within one frame", got, want)
				}
				if got := float64(file.Duration()) / media.Hz; math.Abs(got-want) > 1e-9 {
					t.Errorf("File.Duration %.3f s, want %.3f s", got, want)
				}
				if got := probePackets(t, path); got != tc.n {
					t.Errorf("ffprobe counts %d samples, want %d", got, tc.n)
				}
				if tc.n <= 250 {
					decodeClean(t, path)
					return
				}
				// Decoding five minutes of 720p costs half a minute of
				// CI; read every sample, and decode the last 15 s,
				// reached by seeking through the sample table.
				demuxClean(t, path)
				decodeClean(t, path, "-ss", fmt.Sprint(tc.n/25-15))
			})
		}
	}
}

// TestFileServeRanges serves MP4s with http.ServeContent and checks that
// random byte ranges equal the same slice of the whole file.
func TestFileServeRanges(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		fr := clipFrames(t, loadClip(t, c), 0, 500)
		var fetched int
		counting := func(i int) ([]byte, error) { fetched++; return fr.fetch(i) }
		file, err := media.NewFile(fr.params, fr.samples, counting)
		if err != nil {
			t.Fatal(err)
		}
		whole := readAll(t, file)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"test"`)
			http.ServeContent(w, r, "clip.mp4", time.Time{}, file.NewReader())
		}))
		defer srv.Close()

		get := func(rangeHdr string) (int, []byte, http.Header) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if rangeHdr != "" {
				req.Header.Set("Range", rangeHdr)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, b, resp.Header
		}

		code, body, h := get("")
		if code != 200 || !bytes.Equal(body, whole) || h.Get("Content-Length") != fmt.Sprint(file.Size()) {
			t.Fatalf("%v: full GET: status %d, %d bytes, Content-Length %q; want 200 and %d bytes", c, code, len(body), h.Get("Content-Length"), file.Size())
		}
		rng := rand.New(rand.NewPCG(1, uint64(c)))
		size := file.Size()
		ranges := [][2]int64{
			{0, 0}, {0, file.HeaderSize() - 1}, {file.HeaderSize() - 4, file.HeaderSize() + 10}, {size - 1, size - 1},
		}
		for range 40 {
			a := rng.Int64N(size)
			b := a + rng.Int64N(min(size-a, 300_000))
			ranges = append(ranges, [2]int64{a, b})
		}
		for _, r := range ranges {
			fetched = 0
			code, body, _ := get(fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
			if code != http.StatusPartialContent || !bytes.Equal(body, whole[r[0]:r[1]+1]) {
				t.Fatalf("%v: range %d-%d: status %d, %d bytes, equal=%v", c, r[0], r[1], code, len(body), bytes.Equal(body, whole[r[0]:min(r[1]+1, int64(len(whole)))]))
			}
			if r[1] < file.HeaderSize() && fetched != 0 {
				t.Errorf("%v: range %d-%d inside the header fetched %d samples", c, r[0], r[1], fetched)
			}
		}
		// A suffix range and If-Range with the right ETag.
		code, body, _ = get("bytes=-1000")
		if code != http.StatusPartialContent || !bytes.Equal(body, whole[size-1000:]) {
			t.Errorf("%v: suffix range: status %d, %d bytes", c, code, len(body))
		}
	}
}

func TestFileReadAtFetchesOnlyWhatItNeeds(t *testing.T) {
	fr := clipFrames(t, loadClip(t, media.CodecH264), 0, 250)
	var got []int
	file, err := media.NewFile(fr.params, fr.samples, func(i int) ([]byte, error) {
		got = append(got, i)
		return fr.fetch(i)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("NewFile fetched samples %v", got)
	}
	whole := readAll(t, file)
	got = nil
	// Read from the middle of sample 100 to the middle of sample 102.
	var start int64 = file.HeaderSize()
	for i := range 100 {
		start += int64(fr.samples[i].Size)
	}
	start += int64(fr.samples[100].Size) / 2
	n := int(fr.samples[100].Size)/2 + int(fr.samples[101].Size) + 10
	buf := make([]byte, n)
	if _, err := file.ReadAt(buf, start); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, whole[start:start+int64(n)]) {
		t.Fatal("bytes differ")
	}
	if fmt.Sprint(got) != "[100 101 102]" {
		t.Errorf("fetched samples %v, want [100 101 102]", got)
	}
	// Reading at or past the end is io.EOF; a read running over the end
	// returns what there is and io.EOF.
	if _, err := file.ReadAt(buf[:1], file.Size()); err != io.EOF {
		t.Errorf("ReadAt(Size) = %v, want io.EOF", err)
	}
	n2, err := file.ReadAt(buf[:10], file.Size()-4)
	if n2 != 4 || err != io.EOF {
		t.Errorf("ReadAt over the end = %d, %v; want 4, io.EOF", n2, err)
	}
}

func TestFileFetchErrors(t *testing.T) {
	fr := clipFrames(t, loadClip(t, media.CodecH264), 0, 25)
	file, err := media.NewFile(fr.params, fr.samples, func(i int) ([]byte, error) {
		if i == 3 {
			return fr.data[i][1:], nil
		}
		if i == 5 {
			return nil, errs.E("store.Read", errs.IO, "disk gone")
		}
		return fr.data[i], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(file.NewReader())
	if !errs.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "sample 3") {
		t.Errorf("short fetch: %v, want Corrupt naming sample 3", err)
	}
	buf := make([]byte, 10)
	_, err = file.ReadAt(buf, file.HeaderSize()+int64(len(fr.data[0])+len(fr.data[1])+len(fr.data[2])+len(fr.data[3])+len(fr.data[4])))
	if !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "sample 5") {
		t.Errorf("failed fetch: %v, want IO naming sample 5", err)
	}
}

func TestNewFileRejects(t *testing.T) {
	p := loadClip(t, media.CodecH264).Params
	h265 := loadClip(t, media.CodecH265).Params
	none := func(int) ([]byte, error) { return nil, nil }
	key := media.Sample{Duration: 3600, Key: true, Size: 100}
	big := media.Sample{Duration: 3600, Size: 3 << 30}
	long := media.Sample{Duration: math.MaxUint32 - 10, Size: 100}
	cases := []struct {
		name    string
		params  *media.Params
		samples []media.Sample
		kind    errs.Kind
		want    string
	}{
		{"no samples", p, nil, errs.Invalid, "no samples"},
		{"incomplete params", &media.Params{Codec: media.CodecH264}, []media.Sample{key}, errs.Invalid, "incomplete"},
		{"starts with a delta frame", p, []media.Sample{{Duration: 1, Size: 1}}, errs.Invalid, "sample 0 is not a key frame"},
		{"empty sample", p, []media.Sample{key, {Duration: 1}}, errs.Invalid, "sample 1 is empty"},
		{"codec mismatch", p, []media.Sample{key, {Duration: 1, Size: 1, Key: true, Params: h265}}, errs.Invalid, "sample 1 is H.265"},
		{"over 4 GiB", p, []media.Sample{key, big, big}, errs.TooLarge, "at sample 2 of 3: split the span"},
		{"over 13 hours", p, []media.Sample{key, long}, errs.TooLarge, "ticks (90 kHz) at sample 1 of 2"},
	}
	for _, tc := range cases {
		_, err := media.NewFile(tc.params, tc.samples, none)
		if !errs.Is(err, tc.kind) || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s: error %v, want kind %v containing %q", tc.name, err, tc.kind, tc.want)
		}
	}
	// Just under the duration limit is fine: one frame stretched over a
	// 13-hour gap, built without fetching anything.
	ok := []media.Sample{key, {Duration: 13 * 3600 * media.Hz, Size: 1 << 20}}
	if _, err := media.NewFile(p, ok, none); err != nil {
		t.Errorf("a 13-hour file: %v", err)
	}
}
