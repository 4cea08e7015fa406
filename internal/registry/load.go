package registry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gwanje/gwanje/internal/errs"
)

// Problem is one thing wrong with a registry file.
type Problem struct {
	File string // file name as given to Parse
	Line int    // 1-based; 0 when unknown
	Path string // e.g. sites[2].groups[0].count
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem found in a registry.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, "\n")
}

// Load reads and validates the registry file at path.
func Load(path string) (*Registry, error) {
	const op = "registry.Load"
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return Parse(path, data)
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
var unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type registry\.(\w+)$`)

// Parse decodes and validates a registry. name is used in error messages.
// Unknown keys, malformed values and every rule of Validate are reported
// together, each with its line, in a *ValidationError wrapped as errs.Invalid.
func Parse(name string, data []byte) (*Registry, error) {
	const op = "registry.Parse"
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, errs.E(op, errs.Invalid, &ValidationError{Problems: []Problem{yamlProblem(name, err.Error())}})
	}
	if len(root.Content) == 0 {
		return nil, errs.E(op, errs.Invalid, &ValidationError{Problems: []Problem{{File: name, Msg: "empty registry"}}})
	}
	lines := map[string]int{}
	walkLines(root.Content[0], "", lines)

	r := &Registry{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(r); err != nil {
		var probs []Problem
		if te, ok := err.(*yaml.TypeError); ok {
			for _, m := range te.Errors {
				probs = append(probs, yamlProblem(name, m))
			}
		} else {
			probs = append(probs, yamlProblem(name, err.Error()))
		}
		return nil, errs.E(op, errs.Invalid, &ValidationError{Problems: probs})
	}
	if probs := r.check(name, lines); len(probs) > 0 {
		return nil, errs.E(op, errs.Invalid, &ValidationError{Problems: probs})
	}
	return r, nil
}

func yamlProblem(name, msg string) Problem {
	p := Problem{File: name, Msg: msg}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = m[2]
	}
	if m := unknownFieldRE.FindStringSubmatch(p.Msg); m != nil {
		p.Msg = fmt.Sprintf("unknown key %q in %s", m[1], strings.ToLower(m[2]))
	}
	return p
}

// walkLines records the line of every mapping value and sequence item under
// its path: organization.name, sites[0].groups[1].count.
func walkLines(n *yaml.Node, path string, lines map[string]int) {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		walkLines(n.Content[0], path, lines)
		return
	}
	lines[path] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			walkLines(n.Content[i+1], p, lines)
			if n.Content[i+1].Kind != yaml.ScalarNode {
				lines[p+"#key"] = n.Content[i].Line
			}
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

// Save writes the registry to path crash-safely: a temporary file in the
// same directory is written and fsynced, renamed over path, and the
// directory fsynced, so a crash leaves the old or the new registry, whole.
func (r *Registry) Save(path string) error {
	const op = "registry.Save"
	if err := r.Validate(); err != nil {
		return errs.E(op, err)
	}
	data, err := r.Marshal()
	if err != nil {
		return errs.E(op, err)
	}
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
