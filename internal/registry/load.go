package registry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
)

// Problem is one thing wrong with a registry file. Code and Params name it
// in the message catalogue (internal/i18n, msg_registry.go), so it can be
// shown in the reader's language; Msg is the English wording, for logs.
type Problem struct {
	File   string            // file name as given to Parse
	Line   int               // 1-based; 0 when unknown
	Path   string            // e.g. sites[2].groups[0].count
	Code   string            // catalogue key, e.g. registry.count_negative
	Params map[string]string // values the message names
	Msg    string            // English wording
}

func newProblem(file string, line int, path, code string, params map[string]string) Problem {
	return Problem{File: file, Line: line, Path: path, Code: code, Params: params, Msg: i18n.T(i18n.En, code, params)}
}

// Text is the problem as "file:line: path: message" in lang.
func (p Problem) Text(lang i18n.Lang) string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	if p.Code != "" {
		b.WriteString(i18n.T(lang, p.Code, p.Params))
	} else {
		b.WriteString(p.Msg)
	}
	return b.String()
}

func (p Problem) String() string { return p.Text(i18n.En) }

// ValidationError lists every problem found in a registry, in line order.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string { return e.Text(i18n.En) }

// Text is every problem, one a line, in lang.
func (e *ValidationError) Text(lang i18n.Lang) string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.Text(lang))
	}
	return strings.Join(parts, "\n")
}

// valueError is a malformed scalar (a date, a retention period): a
// catalogue code with its parameters.
type valueError struct {
	code   string
	params map[string]string
}

func (e *valueError) Error() string { return i18n.T(i18n.En, e.code, e.params) }

// Load reads and validates the registry file at path.
func Load(path string) (*Registry, error) {
	const op = "registry.Load"
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a registry. name is used in error messages.
// Syntax errors, unknown or repeated keys, values of the wrong type and
// every rule of Validate are reported together, each with its line and key
// path, in a *ValidationError wrapped as errs.Invalid. (Only a file that is
// not YAML at all stops at its first syntax error: nothing after it can be
// read.)
func Parse(name string, data []byte) (*Registry, error) {
	const op = "registry.Parse"
	fail := func(probs []Problem) error {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return errs.E(op, errs.Invalid, errs.Code("registry.invalid"), errs.Params{"file": name, "count": strconv.Itoa(len(probs))},
			&ValidationError{Problems: probs})
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fail([]Problem{syntaxProblem(name, data, err)})
	}
	if len(root.Content) == 0 {
		return nil, fail([]Problem{newProblem(name, 0, "", "registry.empty", nil)})
	}
	doc := root.Content[0]
	lines := map[string]int{}
	walkLines(doc, "", lines)

	// The schema walk reports unknown and repeated keys and values of the
	// wrong shape or type, and takes each bad value out of the tree so
	// that decoding the rest succeeds and Validate's rules run on it too.
	w := &schemaWalker{file: name}
	w.walk(doc, registryType, "")
	r := &Registry{}
	if err := doc.Decode(r); err != nil && len(w.probs) == 0 {
		return nil, fail([]Problem{newProblem(name, 0, "", "registry.syntax.other", map[string]string{"detail": err.Error()})})
	}
	probs := w.probs
	for _, p := range r.check(name, lines) {
		if !w.covers(p.Path) {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, fail(probs)
	}
	return r, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxProblem turns a YAML parser error into a plain problem. The
// parser names the line where the enclosing construct began, often a line
// or more before the mistake; the line reported here is where reading
// actually fails: the first line whose addition makes the text unreadable.
func syntaxProblem(name string, data []byte, err error) Problem {
	line, msg := 0, err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	ls := bytes.SplitAfter(data, []byte("\n"))
	fails := func(k int) (string, bool) {
		var n yaml.Node
		if err := yaml.Unmarshal(bytes.Join(ls[:k], nil), &n); err != nil {
			m := yamlLineRE.FindStringSubmatch(err.Error())
			if m != nil {
				return m[2], true
			}
			return err.Error(), true
		}
		return "", false
	}
	// Smallest failing prefix, by bisection (a prefix of readable YAML
	// cut at a line end is readable, so failure is monotonic in k).
	lo, hi := 1, len(ls)
	if _, bad := fails(hi); bad {
		for lo < hi {
			mid := (lo + hi) / 2
			if _, bad := fails(mid); bad {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		line = hi
		if m, _ := fails(hi); m != "" {
			msg = m
		}
	}
	code, params := plainSyntax(msg)
	return newProblem(name, line, syntaxPath(ls, line), code, params)
}

var keyLineRE = regexp.MustCompile(`^(\s*)(?:-\s+)?([^\s:#\-{\["'][^:#]*?)\s*:(?:\s|$)`)

// syntaxPath is the key path of line (1-based) of a file that fails to
// read there, when the line starts with a key: the lines before it read
// as YAML, and the key's parent is found by indentation among them. "" when
// it cannot be told.
func syntaxPath(ls [][]byte, line int) string {
	if line < 1 || line > len(ls) {
		return ""
	}
	m := keyLineRE.FindSubmatch(ls[line-1])
	if m == nil {
		return ""
	}
	key, indent := string(m[2]), keyIndent(ls[line-1])
	var prefix yaml.Node
	if yaml.Unmarshal(bytes.Join(ls[:line-1], nil), &prefix) != nil {
		return ""
	}
	lines := map[string]int{}
	if len(prefix.Content) > 0 {
		walkLines(prefix.Content[0], "", lines)
	}
	byLine := map[int][]string{}
	for p, l := range lines {
		byLine[l] = append(byLine[l], p)
	}
	// keyOn is the path of the key written on line l.
	keyOn := func(l int) (string, bool) {
		km := keyLineRE.FindSubmatch(ls[l-1])
		if km == nil {
			return "", false
		}
		for _, p := range byLine[l] {
			if p == string(km[2]) || strings.HasSuffix(p, "."+string(km[2])) {
				return p, true
			}
		}
		return "", false
	}
	for l := line - 1; l >= 1; l-- {
		if len(bytes.TrimSpace(ls[l-1])) == 0 || bytes.HasPrefix(bytes.TrimSpace(ls[l-1]), []byte("#")) {
			continue
		}
		in := keyIndent(ls[l-1])
		p, ok := keyOn(l)
		switch {
		case in == indent && ok: // a sibling: same parent
			if i := strings.LastIndex(p, "."); i >= 0 {
				return p[:i] + "." + key
			}
			return key
		case in < indent && ok: // the parent
			return p + "." + key
		case in < indent:
			return ""
		}
	}
	return key
}

// keyIndent is the column where a line's key starts, after any "- ".
func keyIndent(l []byte) int {
	i := 0
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	for i+1 < len(l) && l[i] == '-' && l[i+1] == ' ' {
		i += 2
		for i < len(l) && l[i] == ' ' {
			i++
		}
	}
	return i
}

// plainSyntax names a parser message in plain words.
func plainSyntax(msg string) (string, map[string]string) {
	switch {
	case strings.Contains(msg, "mapping values are not allowed"):
		return "registry.syntax.second_colon", nil
	case strings.Contains(msg, "tab character"), strings.Contains(msg, "found character that cannot start any token"):
		return "registry.syntax.tab", nil
	case strings.Contains(msg, "did not find expected ',' or"), strings.Contains(msg, "unexpected end of stream"),
		strings.Contains(msg, "found unexpected end of"), strings.Contains(msg, "did not find expected node content"):
		return "registry.syntax.unclosed", nil
	case strings.Contains(msg, "could not find expected ':'"):
		return "registry.syntax.no_colon", nil
	case strings.Contains(msg, "did not find expected key"), strings.Contains(msg, "did not find expected '-' indicator"),
		strings.Contains(msg, "block sequence entries are not allowed"), strings.Contains(msg, "found unexpected"):
		return "registry.syntax.indent", nil
	}
	return "registry.syntax.other", map[string]string{"detail": msg}
}

// walkLines records the line of every mapping value and sequence item under
// its path: organization.name, sites[0].groups[1].count. A key whose value
// is a map or a list is recorded at the key's line.
func walkLines(n *yaml.Node, path string, lines map[string]int) {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		walkLines(n.Content[0], path, lines)
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if _, ok := lines[path]; !ok {
		lines[path] = n.Line
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			if n.Content[i+1].Kind != yaml.ScalarNode {
				lines[p] = n.Content[i].Line
			}
			walkLines(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkLines(c, fmt.Sprintf("%s[%d]", path, i), lines)
		}
	}
}

// Marshal writes the registry as YAML that Parse reads back to an equal value.
func (r *Registry) Marshal() ([]byte, error) {
	const op = "registry.Marshal"
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	if err := enc.Close(); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return b.Bytes(), nil
}

// Save writes the registry to path crash-safely (see WriteFile). It writes
// what Marshal gives, so comments are lost: Import keeps a file as written.
func (r *Registry) Save(path string) error {
	const op = "registry.Save"
	if err := r.Validate(); err != nil {
		return errs.E(op, err)
	}
	data, err := r.Marshal()
	if err != nil {
		return errs.E(op, err)
	}
	return WriteFile(path, data)
}

// Import validates the registry file src and makes it the registry at dst,
// byte for byte, so its comments and layout are kept for the next export.
// It returns the registry imported and the one it replaced (nil if none).
func Import(src, dst string) (imported, replaced *Registry, err error) {
	const op = "registry.Import"
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, nil, errs.E(op, errs.IO, err)
	}
	r, err := Parse(src, data)
	if err != nil {
		return nil, nil, errs.E(op, err)
	}
	if _, err := os.Stat(dst); err == nil {
		if replaced, err = Load(dst); err != nil {
			replaced = nil // an unreadable old registry is replaced all the same
		}
	}
	if err := WriteFile(dst, data); err != nil {
		return nil, nil, errs.E(op, err)
	}
	return r, replaced, nil
}

// WriteFile writes data to path crash-safely: a temporary file in the same
// directory is written and fsynced, renamed over path, and the directory
// fsynced, so a crash leaves the old or the new registry, whole.
func WriteFile(path string, data []byte) error {
	const op = "registry.WriteFile"
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".registry-*.yaml")
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open(dir); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}
