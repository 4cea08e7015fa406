package access

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the one client address of a request, used alike for
// authorization (the viewing-room networks, rate limits) and for the
// ledger's client column. It is the TCP peer, unless the peer is one of
// the trusted proxies: then X-Forwarded-For is read from the right, and the
// first hop that is not itself a trusted proxy is the client (the hops to
// its left were written by the client and prove nothing). A request whose
// every hop is trusted, or whose header cannot be parsed at the point
// reached, is attributed to the last trusted address seen. An untrusted
// peer's X-Forwarded-For is ignored whatever it says.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap().WithZone("")
	if !inAny(trusted, peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return peer
		}
		a = a.Unmap().WithZone("")
		if !inAny(trusted, a) {
			return a
		}
		peer = a
	}
	return peer
}

// inAny reports whether a is in one of nets.
func inAny(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
