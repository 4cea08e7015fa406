package playback

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// needTool returns the path of an external tool, skipping the test when it
// is missing outside CI and failing it in CI.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (scripts/test installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// record writes n frames of the codec's clip to camera, starting at wall
// time start, through a real store writer.
func record(t testing.TB, w *store.Writer, codec media.Codec, start int64, n int) int64 {
	t.Helper()
	end, err := storetest.Clip(w, codec, start, n)
	if err != nil {
		t.Fatal(err)
	}
	return end
}

func TestPlaybackFromStoreAcrossSegmentsAndGap(t *testing.T) {
	ffprobe := needTool(t, "ffprobe")
	ffmpeg := needTool(t, "ffmpeg")
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			const sec = media.Hz
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
			// 25 s, a 5 s gap (the camera dropped off), then 20 s more.
			end1 := record(t, w, codec, t0, 25*25)
			w.Break("test gap")
			end2 := record(t, w, codec, end1+5*sec, 20*25)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			c, err := Build(context.Background(), StoreSource{s}, "cam-1", t0, end2)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Start != t0 || len(c.Gaps) != 1 || c.Gaps[0].End-c.Gaps[0].Start != 5*sec {
				t.Fatalf("start %d gaps %v", c.Start-t0, c.Gaps)
			}
			path := filepath.Join(t.TempDir(), "clip.mp4")
			out, _ := os.Create(path)
			if _, err := io.Copy(out, c.File.NewReader()); err != nil {
				t.Fatal(err)
			}
			out.Close()

			// The file covers wall-clock time: 25 + 5 + 20 s.
			b, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration",
				"-of", "default=nw=1:nk=1", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			if want := 50.0; got < want-0.04 || got > want+0.04 {
				t.Errorf("ffprobe duration %.3f s, want %.1f s", got, want)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "null", "-")
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("ffmpeg decode: %v: %s", err, stderr.String())
			}
		})
	}
}

// openIn counts this process's file descriptors that point into dir,
// other than SQLite databases (the index stays open).
func openIn(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		db := strings.HasSuffix(target, ".db") || strings.HasSuffix(target, "-wal") || strings.HasSuffix(target, "-shm")
		if err == nil && !db && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

// Finding 8: a view kept segment files open for its whole hour (20 views,
// 100 descriptors). Segment files are open only while a response reads.
func TestViewsHoldNoSegmentFilesBetweenResponses(t *testing.T) {
	const sec = media.Hz
	t0 := media.Time90k(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := store.Open(context.Background(), store.Config{
		Dir: dir, Keys: keys, SegmentDuration: 10 * time.Second,
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
	end := record(t, w, media.CodecH264, t0, 45*25) // 5 segments
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	base := openIn(t, dir)
	var clips []*Clip
	for i := 0; i < 20; i++ {
		c, err := Build(context.Background(), StoreSource{s}, "cam-1", t0, end)
		if err != nil {
			t.Fatal(err)
		}
		clips = append(clips, c)
		if len(c.Segments) < 4 {
			t.Fatalf("clip reads %d segments; the test needs several", len(c.Segments))
		}
		for k := 0; k < 3; k++ { // a player's few range requests
			rd := c.NewReader(context.Background())
			if _, err := io.Copy(io.Discard, rd); err != nil {
				t.Fatal(err)
			}
			if c.OpenFiles() == 0 || openIn(t, dir) == base {
				t.Fatal("no segment file open while a reader is in use: the count below proves nothing")
			}
			rd.Close()
		}
	}
	if n := openIn(t, dir); n != base {
		t.Fatalf("%d segment file descriptors open after 20 completed views, want %d", n, base)
	}
	// A reader whose access is revoked stops reading.
	ctx, cancel := context.WithCancel(context.Background())
	rd := clips[0].NewReader(ctx)
	defer rd.Close()
	if _, err := rd.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := rd.Read(make([]byte, 100)); err == nil {
		t.Fatal("read after the reader's context ended")
	}
}

// A clip built while its last segment is still being written reads the
// same bytes later, when its files are opened again for the response and
// the segment has grown or closed meanwhile.
func TestClipOfOpenSegmentReadsSameBytesLater(t *testing.T) {
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
	mid := record(t, w, media.CodecH265, t0, 15*25) // one closed segment, one open
	c, err := Build(context.Background(), StoreSource{s}, "cam-1", t0, mid)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read := func() []byte {
		rd := c.NewReader(context.Background())
		defer rd.Close()
		b, err := io.ReadAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := read()
	record(t, w, media.CodecH265, mid, 10*25)
	grown := read()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	closed := read()
	if !bytes.Equal(before, grown) || !bytes.Equal(before, closed) {
		t.Fatalf("the clip's bytes changed as its open segment grew or closed (%d, %d, %d bytes)", len(before), len(grown), len(closed))
	}
}
