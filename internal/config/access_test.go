package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Trusted proxies and viewing rooms are CIDRs, named by file and line
// when wrong.
func TestAccessSectionValidated(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"proxy not a CIDR", "access:\n  trusted_proxies: [10.0.0.5]\n", ":2: access.trusted_proxies[0]: want a network"},
		{"room network", "access:\n  viewing_rooms:\n    networks:\n      - 10.0.0.0/8\n      - lobby\n", ":3: access.viewing_rooms.networks[1]: want a network"},
		{"site room", "access:\n  viewing_rooms:\n    sites:\n      branch: [192.168.5.0/33]\n", ":4: access.viewing_rooms.sites.branch[0]: want a network"},
		{"site without networks", "access:\n  viewing_rooms:\n    sites:\n      branch: []\n", ":4: access.viewing_rooms.sites.branch: needs at least one network"},
		{"unknown key", "access:\n  viewing_room: []\n", "line 2: field viewing_room not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "gwanje.yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			_, err := Load(p, noEnv)
			if err == nil {
				t.Fatal("loaded bad config")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %q and the file", err, tc.want)
			}
		})
	}
}

func TestAccessSectionParsed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gwanje.yaml")
	os.WriteFile(p, []byte(`access:
  trusted_proxies: [10.0.0.5/32, "fd00::1/128"]
  viewing_rooms:
    networks: [10.20.0.0/24]
    sites:
      branch: [192.168.5.7/24]
`), 0o600)
	c, err := Load(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TrustedProxies(); len(got) != 2 || got[0] != netip.MustParsePrefix("10.0.0.5/32") {
		t.Errorf("trusted proxies %v", got)
	}
	all, sites := c.ViewingRoomNetworks()
	if len(all) != 1 || all[0] != netip.MustParsePrefix("10.20.0.0/24") ||
		len(sites["branch"]) != 1 || sites["branch"][0] != netip.MustParsePrefix("192.168.5.0/24") {
		t.Errorf("viewing rooms %v %v", all, sites)
	}
	if w := c.Where("access.viewing_rooms.sites.branch"); w != p+":6: access.viewing_rooms.sites.branch" {
		t.Errorf("Where: %q", w)
	}
	if all, sites := Default().ViewingRoomNetworks(); all != nil || sites != nil {
		t.Error("the default restricts viewing")
	}
}
