package media_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// TestBadInputFixtures feeds every damaged input under testdata/media to
// its parser and expects a refusal, never a panic or a silent success.
func TestBadInputFixtures(t *testing.T) {
	for dir, parse := range map[string]func([]byte) error{
		"bad-avcc": func(b []byte) error { _, err := media.SplitAVCC(b); return err },
		"bad-params": func(b []byte) error {
			var p media.Params
			err := p.UnmarshalBinary(b)
			if err != nil && !errs.Is(err, errs.Corrupt) {
				t.Errorf("kind %v, want Corrupt", errs.KindOf(err))
			}
			return err
		},
	} {
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "media", dir, "*.bin"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in testdata/media/%s: %v", dir, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := parse(b); err == nil {
				t.Errorf("%s: accepted", f)
			} else {
				t.Logf("%s: %v", filepath.Base(f), err)
			}
		}
	}
}
