package access

import (
	"net/netip"
	"sync"
	"time"
)

// addrLimiter counts failed logins per client address (an IPv6 address by
// its /64, which one client usually holds whole) within a window. It keeps
// at most maxAddrs addresses; when full, the entry whose window started
// first is forgotten.
type addrLimiter struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	addrs map[netip.Prefix]*addrCount
}

type addrCount struct {
	start    time.Time
	failures int
	refused  bool // a refusal of this window was ledgered
}

const maxAddrs = 10000

func newAddrLimiter(limit int, window time.Duration) *addrLimiter {
	return &addrLimiter{limit: limit, window: window, addrs: map[netip.Prefix]*addrCount{}}
}

func addrKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// allow reports whether a login from a may be checked; when it may not,
// first is true for the first refusal of the window (the one to ledger).
func (l *addrLimiter) allow(a netip.Addr, now time.Time) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.addrs[addrKey(a)]
	if c == nil || now.Sub(c.start) > l.window || c.failures < l.limit {
		return true, false
	}
	first = !c.refused
	c.refused = true
	return false, first
}

// fail counts a failed login from a.
func (l *addrLimiter) fail(a netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := addrKey(a)
	c := l.addrs[k]
	if c == nil || now.Sub(c.start) > l.window {
		if c == nil && len(l.addrs) >= maxAddrs {
			l.evict(now)
		}
		c = &addrCount{start: now}
		l.addrs[k] = c
	}
	c.failures++
}

// evict forgets the addresses whose window is over, or else the oldest.
func (l *addrLimiter) evict(now time.Time) {
	var oldest netip.Prefix
	var at time.Time
	for k, c := range l.addrs {
		if now.Sub(c.start) > l.window {
			delete(l.addrs, k)
			continue
		}
		if at.IsZero() || c.start.Before(at) {
			oldest, at = k, c.start
		}
	}
	if len(l.addrs) >= maxAddrs {
		delete(l.addrs, oldest)
	}
}
