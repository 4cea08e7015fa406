package registry

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/i18n"
)

// A camera's privacy zones are read from the registry, and a bad one is
// named with its file, line and path, in both languages.
func TestPrivacyZones(t *testing.T) {
	good, err := os.ReadFile(testdata + "jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "          - id: jb-02\n"
	with := func(zones string) string {
		src := strings.Replace(string(good), anchor, anchor+"            privacy_zones:\n"+zones, 1)
		if src == string(good) {
			t.Fatal("mutation did not apply")
		}
		return src
	}
	r, err := Parse("jeonbuk.yaml", []byte(with("              - name: 옆집 창문\n                points: [[0.6, 0.05], [0.95, 0.05], [0.95, 0.4]]\n")))
	if err != nil {
		t.Fatal(err)
	}
	var found *Camera
	for si := range r.Sites {
		for gi := range r.Sites[si].Groups {
			for ci := range r.Sites[si].Groups[gi].Cameras {
				if c := &r.Sites[si].Groups[gi].Cameras[ci]; c.ID == "jb-02" {
					found = c
				}
			}
		}
	}
	if found == nil || len(found.PrivacyZones) != 1 || found.PrivacyZones[0].Name != "옆집 창문" || found.PrivacyZones[0].Points[2][1] != 0.4 {
		t.Fatalf("jb-02 %+v", found)
	}
	for _, tc := range []struct {
		name, zones, at, path, msg string
	}{
		{"two points", "              - points: [[0.1, 0.1], [0.2, 0.2]]\n", "points: [[0.1, 0.1], [0.2, 0.2]]",
			"privacy_zones[0].points", "3 to 64 points (this one has 2)"},
		{"outside", "              - points: [[0.1, 0.1], [1.2, 0.1], [0.1, 0.5]]\n", "points: [[0.1, 0.1], [1.2",
			"privacy_zones[0].points[1]", "Point 2 of the privacy zone"},
		{"three numbers", "              - points: [[0.1, 0.1, 0], [0.2, 0.1], [0.1, 0.5]]\n", "points: [[0.1, 0.1, 0]",
			"privacy_zones[0].points[0]", "Point 1 of the privacy zone"},
		{"on a line", "              - points: [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]\n", "points: [[0.1, 0.1], [0.2, 0.2], [0.3",
			"privacy_zones[0].points", "enclose no area"},
		{"second zone", "              - points: [[0.1, 0.1], [0.2, 0.1], [0.1, 0.5]]\n              - points: [[0.1, 0.1]]\n", "points: [[0.1, 0.1]]\n",
			"privacy_zones[1].points", "this one has 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := with(tc.zones)
			_, err := Parse("jeonbuk.yaml", []byte(src))
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 {
				t.Fatalf("got %v, want one problem", err)
			}
			p := ve.Problems[0]
			i := strings.Index(src, tc.at)
			want := strings.Count(src[:i], "\n") + 1
			if !strings.Contains(p.Msg, tc.msg) || p.Line != want || !strings.HasSuffix(p.Path, "cameras[1]."+tc.path) {
				t.Fatalf("%s:%d %s: %s; want line %d …cameras[1].%s %q", p.File, p.Line, p.Path, p.Msg, want, tc.path, tc.msg)
			}
			if ko := p.Text(i18n.Ko); strings.Contains(ko, i18n.Missing) || !strings.HasPrefix(ko, "jeonbuk.yaml:"+strconv.Itoa(want)+": ") {
				t.Errorf("Korean wording %q", ko)
			}
		})
	}
}
