package health

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

func testKeys(t *testing.T, b byte) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openStills(t *testing.T, dir string, keys *seal.Keyring) *StillStore {
	t.Helper()
	s, err := OpenStills(context.Background(), StillsConfig{Dir: dir, Keys: keys, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeJPEG is recognisable plaintext: the sealed file must not contain it.
var fakeJPEG = append([]byte{0xFF, 0xD8}, []byte(strings.Repeat("PLAINTEXT-PICTURE-", 50))...)

func TestStillStoreSealsAndReturnsThePicture(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := testKeys(t, 7)
	s := openStills(t, dir, keys)
	defer s.Close()
	rec := t0.Add(-time.Minute)
	st, err := s.Put(ctx, "cam1", rec, fakeJPEG, []string{"black picture"})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.path(st.ID))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("still file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(s.path(st.ID))
	if bytes.Contains(raw, []byte("PLAINTEXT-PICTURE")) {
		t.Fatal("the still is stored in the clear")
	}
	got, img, err := s.Image(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img, fakeJPEG) || !got.RecordedAt.Equal(rec) || got.Camera != "cam1" || got.Findings[0] != "black picture" {
		t.Fatalf("got %+v", got)
	}
	list, err := s.List(ctx, "cam1", rec, rec.Add(time.Second))
	if err != nil || len(list) != 1 || list[0].ID != st.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	if l, _ := s.List(ctx, "cam2", rec, rec.Add(time.Second)); len(l) != 0 {
		t.Fatalf("another camera's list: %+v", l)
	}

	// Another master key cannot open it.
	s.Close()
	other := openStills(t, dir, testKeys(t, 8))
	defer other.Close()
	if _, _, err := other.Image(ctx, st.ID); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("opened under the wrong master key: %v", err)
	}
}

// A still whose index row was moved to another camera or time does not
// open: both are bound into the sealing.
func TestStillBoundToCameraAndTime(t *testing.T) {
	ctx := context.Background()
	s := openStills(t, t.TempDir(), testKeys(t, 7))
	defer s.Close()
	st, err := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE still SET recorded_ns = recorded_ns + 86400000000000 WHERE id = ?`, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Image(ctx, st.ID); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("a still whose recording time was moved opened: %v", err)
	}
}

// Destruction: rows and files of the camera's stills before the cut-off
// go, the wrapped key is gone from the index file, others stay.
func TestStillDestroyBefore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStills(t, dir, testKeys(t, 7))
	defer s.Close()
	old, _ := s.Put(ctx, "cam1", t0.Add(-48*time.Hour), fakeJPEG, nil)
	keep, _ := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	other, _ := s.Put(ctx, "cam2", t0.Add(-48*time.Hour), fakeJPEG, nil)
	var wrapped []byte
	if err := s.db.QueryRow(`SELECT wrapped_key FROM still WHERE id = ?`, old.ID).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	gone, err := s.DestroyBefore(ctx, "cam1", t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0].ID != old.ID || len(gone[0].SHA256) != 32 || gone[0].KeyID == "" {
		t.Fatalf("destroyed %+v", gone)
	}
	if _, _, err := s.Image(ctx, old.ID); !errs.Is(err, errs.NotExist) {
		t.Fatalf("destroyed still: %v", err)
	}
	if _, err := os.Stat(s.path(old.ID)); !os.IsNotExist(err) {
		t.Fatalf("destroyed still's file remains: %v", err)
	}
	for _, name := range []string{"index.db", "index.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(b, wrapped) {
			t.Fatalf("the destroyed still's wrapped key is still in %s", name)
		}
	}
	for _, id := range []int64{keep.ID, other.ID} {
		if _, _, err := s.Image(ctx, id); err != nil {
			t.Fatalf("still %d lost: %v", id, err)
		}
	}
	if _, err := s.Delete(ctx, keep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, keep.ID); !errs.Is(err, errs.NotExist) {
		t.Fatalf("second delete: %v", err)
	}
	// Ids are never reused.
	n, _ := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	if n.ID <= other.ID {
		t.Fatalf("id %d reused (last was %d)", n.ID, other.ID)
	}
}

// Open removes what a crash left: a temporary file, and a file written
// but never indexed.
func TestStillRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStills(t, dir, testKeys(t, 7))
	st, _ := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	s.Close()
	orphan := filepath.Join(dir, "00000000000000ff"+stillExt)
	tmp := filepath.Join(dir, "0000000000000100"+stillExt+".tmp")
	for _, p := range []string{orphan, tmp} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = openStills(t, dir, testKeys(t, 7))
	defer s.Close()
	for _, p := range []string{orphan, tmp} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived recovery", filepath.Base(p))
		}
	}
	if _, _, err := s.Image(ctx, st.ID); err != nil {
		t.Fatalf("indexed still lost in recovery: %v", err)
	}
}

// With ffmpeg, the scheduled check keeps each camera's picture sealed and
// names it in the ledger entry; the picture is the camera's, as a JPEG,
// recorded at the frame's time.
func TestCheckKeepsStill(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg missing on CI")
		}
		t.Skip("ffmpeg not installed")
	}
	ctx := context.Background()
	stills := openStills(t, t.TempDir(), testKeys(t, 7))
	defer stills.Close()
	led := &fakeLedger{}
	r := newRig(t, Options{Ledger: led, Still: FFmpegStill{}, Stills: stills}, "cam1")
	for range 3 {
		r.second(func() { r.cams["cam1"].stream(25) })
	}
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	f := keyFrameOf(t, c)
	f.Wall = media.Time90k(t0.Add(-time.Second))
	r.m.mu.Lock()
	r.m.cams[0].frame(ingest.LiveFrame{Frame: f}, r.clk.Now(), r.m.th)
	r.m.mu.Unlock()
	res, err := r.m.RunCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Still == 0 {
		t.Fatalf("no still kept: %+v", res[0])
	}
	if d := led.e[0].Detail; !strings.Contains(d, "정지화상") {
		t.Fatalf("ledger detail %q does not name the still", d)
	}
	st, img, err := stills.Image(ctx, res[0].Still)
	if err != nil {
		t.Fatal(err)
	}
	if len(img) < 1000 || img[0] != 0xFF || img[1] != 0xD8 {
		t.Fatalf("kept picture is not a JPEG (%d bytes)", len(img))
	}
	if !st.RecordedAt.Equal(media.FromTime90k(f.Wall)) {
		t.Fatalf("recorded at %v, want the frame's time %v", st.RecordedAt, media.FromTime90k(f.Wall))
	}
}
