package registry

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	registryType    = reflect.TypeOf(Registry{})
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// schemaWalker checks a YAML tree against the Go types of the registry
// before decoding: every key must be one the type has (a near miss is
// named), no key twice, maps where maps belong, lists where lists belong,
// and every scalar must decode into its field. Each bad value is removed
// from the tree (or, in a list, replaced by an empty value of its type, so
// that later items keep their index) and its path remembered, so Validate's
// rules about the rest still run without repeating the same problem.
type schemaWalker struct {
	file  string
	probs []Problem
	bad   []string
}

func (w *schemaWalker) add(n *yaml.Node, path, code string, params map[string]string) {
	w.probs = append(w.probs, newProblem(w.file, n.Line, path, code, params))
	w.bad = append(w.bad, path)
}

// covers reports whether a Validate problem at path is explained by a
// problem the walk already reported: the same value, one inside it, or the
// map or list that holds it (a required key taken out is "missing").
func (w *schemaWalker) covers(path string) bool {
	for _, b := range w.bad {
		if path == b || under(path, b) || under(b, path) {
			return true
		}
	}
	return false
}

func under(p, parent string) bool {
	if parent == "" {
		return p != ""
	}
	return strings.HasPrefix(p, parent+".") || strings.HasPrefix(p, parent+"[")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// walk checks n against t and reports whether it may stay in the tree.
func (w *schemaWalker) walk(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return true // an empty value is an absent one
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			var ve *valueError
			if errors.As(err, &ve) {
				w.add(n, path, ve.code, ve.params)
			} else {
				w.add(n, path, "registry.want_text", nil)
			}
			return false
		}
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.add(n, path, "registry.want_map", nil)
			return false
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		seen := map[string]int{}
		var keep []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if prev, dup := seen[k.Value]; dup {
				w.add(k, p, "registry.duplicate_key", map[string]string{"key": k.Value, "line": strconv.Itoa(prev)})
				continue
			}
			seen[k.Value] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				if near := nearest(k.Value, names); near != "" {
					w.add(k, p, "registry.unknown_key_hint", map[string]string{"key": k.Value, "hint": near})
				} else {
					w.add(k, p, "registry.unknown_key", map[string]string{"key": k.Value})
				}
				continue
			}
			if w.walk(v, ft, p) {
				keep = append(keep, k, v)
			}
		}
		n.Content = keep
		return true
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.add(n, path, "registry.want_map", nil)
			return false
		}
		seen := map[string]int{}
		var keep []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if prev, dup := seen[k.Value]; dup {
				w.add(k, p, "registry.duplicate_key", map[string]string{"key": k.Value, "line": strconv.Itoa(prev)})
				continue
			}
			seen[k.Value] = k.Line
			if w.walk(v, t.Elem(), p) {
				keep = append(keep, k, v)
			}
		}
		n.Content = keep
		return true
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(n, path, "registry.want_list", nil)
			return false
		}
		for i, c := range n.Content {
			if !w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) {
				n.Content[i] = emptyNode(t.Elem())
			}
		}
		return true
	}
	if n.Kind != yaml.ScalarNode {
		w.add(n, path, "registry.want_text", nil)
		return false
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		code := "registry.want_text"
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			code = "registry.want_int"
		case reflect.Float32, reflect.Float64:
			code = "registry.want_number"
		case reflect.Bool:
			code = "registry.want_bool"
		}
		w.add(n, path, code, map[string]string{"value": n.Value})
		return false
	}
	return true
}

// emptyNode is a value of type t with nothing in it.
func emptyNode(t reflect.Type) *yaml.Node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	case t.Kind() == reflect.Struct:
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	case t.Kind() == reflect.Slice:
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
}

// nearest is the known key closest to k by edit distance, when close
// enough to be a typo ("storrage" → "storage"), else "".
func nearest(k string, names []string) string {
	best, bestD := "", 3
	if len(k) <= 4 {
		bestD = 2
	}
	for _, n := range names {
		if d := editDistance(k, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
