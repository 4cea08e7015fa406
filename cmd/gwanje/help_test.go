package main

import (
	"bytes"
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestHelpForEveryCommand runs `-h` on every subcommand and on every
// sub-subcommand its usage names (`gwanje user add -h`, ...): each prints
// its usage and exits 0, and none answers "unknown command".
func TestHelpForEveryCommand(t *testing.T) {
	ctx := context.Background()
	help := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		text := out.String() + errb.String()
		lower := strings.ToLower(text)
		if code != 0 || !strings.Contains(lower, "usage") || strings.Contains(lower, "unknown") {
			t.Errorf("gwanje %s: exit %d:\n%s", strings.Join(args, " "), code, text)
		}
		return text
	}
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 10 {
		t.Fatalf("only %d commands registered", len(names))
	}
	top := help("-h")
	for _, name := range names {
		if !strings.Contains(top, "  "+name+" ") {
			t.Errorf("gwanje -h does not list %s", name)
		}
		usage := help(name, "-h")
		help(name, "--help")
		subs := map[string]bool{}
		for _, m := range regexp.MustCompile(`gwanje `+name+` ([a-z][a-z|-]*)`).FindAllStringSubmatch(usage, -1) {
			for _, s := range strings.Split(m[1], "|") {
				subs[s] = true
			}
		}
		if len(subs) > 0 {
			help(name, "help")
		}
		for sub := range subs {
			help(name, sub, "-h")
		}
		t.Logf("%s: subcommands %v", name, keys(subs))
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
