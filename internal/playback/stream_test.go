package playback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// readStream reads a whole stream in reads of n bytes.
func readStream(t *testing.T, s *Stream, n int) []byte {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, n)
	for {
		k, err := s.Read(buf)
		out.Write(buf[:k])
		if err == io.EOF {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		if k != n {
			t.Fatalf("a read of %d bytes returned %d before the end", n, k)
		}
	}
}

// The export's stream is the playback file byte for byte, whatever the
// read size: the header (with the recording-time metadata), in-band
// parameter sets where the parameters change, frames across segments
// and chunks, and the frame held over a recording gap.
func TestStreamIsTheFileByteForByte(t *testing.T) {
	t0 := media.Time90k(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), store.Config{
		Dir: t.TempDir(), Keys: keys, SegmentDuration: 10 * time.Second,
		ChunkDuration: time.Second, SyncInterval: 10 * time.Millisecond,
		Clock: clock.NewFake(media.FromTime90k(t0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Writer("cam-1")
	if err != nil {
		t.Fatal(err)
	}
	end1 := record(t, w, media.CodecH264, t0, 25*25)
	w.Break("test gap")
	end2 := record(t, w, media.CodecH264, end1+3*media.Hz, 12*25)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Build(context.Background(), StoreSource{s}, "cam-1", t0, end2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Segments) < 3 || len(c.Gaps) != 1 {
		t.Fatalf("want a clip over several segments and a gap: %d segments, gaps %v", len(c.Segments), c.Gaps)
	}
	if err := c.File.SetRecorded(media.FromTime90k(c.Start)); err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(c.NewReader(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, 4096, 1 << 20, len(want) + 1} {
		st := c.NewStream(context.Background())
		got := readStream(t, st, n)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("reads of %d: the stream gave %d bytes that differ from the file's %d", n, len(got), len(want))
		}
	}
}

// Where the parameter sets change, the file carries them in-band before
// the key frame; the stream must too.
func TestStreamCarriesInBandParameterSets(t *testing.T) {
	const sec = media.Hz
	t0 := int64(1_800_000_000) * sec
	src := newFake(t, []int64{t0, t0 + 2*sec, t0 + 4*sec}, 50)
	other := *src.params
	other.PPS = append(append([]byte(nil), src.params.PPS...), 0x80)
	ps := &paramSource{fakeSource: src, params: map[int64]*media.Params{2: &other}}
	c, err := Build(context.Background(), ps, "cam", t0, t0+6*sec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prefixed := 0
	for i := range c.File.Samples() {
		if pre, _ := c.File.Layout(i); pre != nil {
			prefixed++
		}
	}
	if prefixed < 2 {
		t.Fatalf("%d samples carry in-band parameter sets, want at least 2 (to the other and back)", prefixed)
	}
	want, err := io.ReadAll(c.NewReader(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 1000, len(want)} {
		st := c.NewStream(context.Background())
		if got := readStream(t, st, n); !bytes.Equal(got, want) {
			t.Fatalf("reads of %d: the stream differs from the file", n)
		}
		st.Close()
	}
	c.Close()
	if src.opened != src.closed {
		t.Errorf("opened %d segments, closed %d", src.opened, src.closed)
	}
}

// paramSource gives some segments other parameter sets.
type paramSource struct {
	*fakeSource
	params map[int64]*media.Params
}

type paramData struct {
	SegmentData
	p *media.Params
}

func (d paramData) Params() *media.Params { return d.p }

func (s *paramSource) Open(ctx context.Context, id int64) (SegmentData, error) {
	d, err := s.fakeSource.Open(ctx, id)
	if p := s.params[id]; p != nil && err == nil {
		return paramData{d, p}, nil
	}
	return d, err
}

// A stream holds one segment open at a time and stops once its context
// ends (the access was revoked).
func TestStreamStopsWhenItsContextEnds(t *testing.T) {
	const sec = media.Hz
	t0 := int64(1_800_000_000) * sec
	src := newFake(t, []int64{t0, t0 + 2*sec, t0 + 4*sec}, 50)
	c, err := Build(context.Background(), src, "cam", t0, t0+6*sec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	st := c.NewStream(ctx)
	defer st.Close()
	if _, err := st.Read(make([]byte, len(c.File.Header())+1000)); err != nil {
		t.Fatal(err)
	}
	if open := src.opened - src.closed; open != 1 {
		t.Errorf("%d segments open after the first read, want 1", open)
	}
	why := errors.New("revoked")
	cancel(why)
	_, err = st.Read(make([]byte, 1000))
	if !errs.Is(err, errs.Canceled) || !errors.Is(err, why) {
		t.Fatalf("read after the context ended: %v, want Canceled with the cause", err)
	}
}
