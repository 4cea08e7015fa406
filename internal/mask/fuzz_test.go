package mask

import (
	"strings"
	"testing"
)

// Any input either is refused or gives a spec that validates again and
// builds a filter graph whose every expression is balanced.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"style":"pixelate","zones":[{"name":"a","points":[[0.1,0.1],[0.3,0.1],[0.3,0.4]]}]}`,
		`{"regions":[{"name":"p","from":0,"to":10,"x":0.2,"y":0.2,"w":0.1,"h":0.2}]}`,
		`{"style":"fill","regions":[{"from":1,"to":9,"keyframes":[{"t":1,"x":0,"y":0,"w":0.1,"h":0.1},{"t":9,"x":0.8,"y":0.6,"w":0.2,"h":0.3}]}]}`,
		`{"watermark":{"recipient":"홍길동","date":"2026-12-03"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed spec fails validation: %v", err)
		}
		r := Renderer{Font: "/dev/null"}
		g, err := r.graph(s, 320, 240, t.TempDir(), 0)
		if err != nil {
			t.Fatalf("graph: %v", err)
		}
		if strings.Count(g.filter, "(") != strings.Count(g.filter, ")") || strings.Count(g.filter, "'")%2 != 0 {
			t.Fatalf("unbalanced graph:\n%s", g.filter)
		}
		if strings.Contains(g.filter, "NaN") || strings.Contains(g.filter, "Inf") {
			t.Fatalf("graph with a non-number:\n%s", g.filter)
		}
	})
}
