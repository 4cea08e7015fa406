package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/registry"
)

// Finding 4: the policy promises the viewing room (열람 장소 통제) only when
// the configuration restricts where footage is viewed, and then the gate
// enforces it; a registry's declaration alone no longer makes the promise.
func TestPolicyPromisesViewingRoomOnlyWhenConfigured(t *testing.T) {
	reg, err := registry.Load("../../testdata/registry/guro.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reg.Safety.RestrictedViewingRoom {
		t.Fatal("the fixture should declare a restricted viewing room")
	}
	load := func(yaml string) *config.Config {
		p := filepath.Join(t.TempDir(), "gwanje.yaml")
		os.WriteFile(p, []byte("data_dir: /var/lib/gwanje\n"+yaml), 0o600)
		c, err := config.Load(p, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sentence := func(a *App) bool {
		doc := policy.Build(reg, a.facts(), policy.Options{})
		return strings.Contains(doc.Markdown(), "출입 제한구역")
	}
	quiet := slog.New(slog.DiscardHandler)

	plain := &App{cfg: load(""), reg: reg, log: quiet}
	if sentence(plain) {
		t.Error("the policy promises a viewing room gwanje does not enforce")
	}
	roomed := &App{cfg: load("access:\n  viewing_rooms:\n    sites:\n      market: [10.30.0.0/24]\n"), reg: reg, log: quiet}
	if !sentence(roomed) {
		t.Error("the policy omits the configured viewing room")
	}
	rooms, err := roomed.rooms()
	if err != nil || !rooms.Configured() || len(rooms.Sites["market"]) != 1 {
		t.Fatalf("rooms %+v %v", rooms, err)
	}
	// A site the registry does not know is a start-up error naming the
	// file and line.
	typo := &App{cfg: load("access:\n  viewing_rooms:\n    sites:\n      markett: [10.30.0.0/24]\n"), reg: reg, log: quiet}
	if _, err := typo.rooms(); err == nil || !strings.Contains(err.Error(), ".yaml:5: access.viewing_rooms.sites.markett") {
		t.Fatalf("unknown site: %v", err)
	}
	if sentence(typo) {
		t.Error("an invalid viewing room is promised")
	}
}
