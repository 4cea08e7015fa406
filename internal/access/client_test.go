package access

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.99.0.0/16")}
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"spoofed header from an untrusted client is ignored", "192.0.2.1:5000", []string{"10.10.0.5"}, "192.0.2.1"},
		{"one trusted proxy", "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"rightmost untrusted hop: what the client wrote to the left proves nothing",
			"127.0.0.1:5000", []string{"10.10.0.5, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies is skipped", "127.0.0.1:5000", []string{"1.2.3.4, 198.51.100.7, 10.99.1.1"}, "198.51.100.7"},
		{"several header lines read as one list", "127.0.0.1:5000", []string{"1.2.3.4", "198.51.100.7, 10.99.1.1"}, "198.51.100.7"},
		{"every hop trusted: the last trusted one", "127.0.0.1:5000", []string{"10.99.3.3"}, "10.99.3.3"},
		{"garbage stops the walk at the last trusted hop", "127.0.0.1:5000", []string{"203.0.113.9, junk"}, "127.0.0.1"},
		{"trusted proxy without the header", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"IPv4 mapped in IPv6", "[::ffff:192.0.2.8]:5000", nil, "192.0.2.8"},
		{"IPv6 client via the proxy", "127.0.0.1:5000", []string{"2001:db8::7"}, "2001:db8::7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(r, trusted); got.String() != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// Without trusted proxies no header is ever believed.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := ClientAddr(r, nil); got.String() != "127.0.0.1" {
		t.Errorf("no trusted proxies: %s", got)
	}
}
