package shell

import (
	"strings"
	"sync"
	"time"
)

// LoginThrottle slows down password guessing: after too many failed logins for one
// account name, or from one address, further tries are refused for a while, the
// pause doubling with each failure beyond the limit. Names that do not exist are
// throttled exactly like names that do, so the answer tells nothing. One throttle
// is shared by every session of a server.
type LoginThrottle struct {
	PerName int           // failures per name before a pause (default 5)
	PerAddr int           // failures per address before a pause (default 20)
	Window  time.Duration // failures older than this are forgotten (default 15m)
	Pause   time.Duration // the first pause (default 30s); doubles, at most an hour
	Now     func() time.Time

	mu       sync.Mutex
	failures map[string]*failures
}

type failures struct {
	count int
	last  time.Time
}

// NewLoginThrottle returns a throttle with the default limits.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{PerName: 5, PerAddr: 20, Window: 15 * time.Minute, Pause: 30 * time.Second, Now: time.Now}
}

func nameKey(name string) string { return "name:" + strings.ToLower(strings.TrimSpace(name)) }
func addrKey(addr string) string { return "addr:" + addr }

// Wait returns how long a login for name from addr must wait; 0 means go ahead.
func (t *LoginThrottle) Wait(name, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	return max(t.waitLocked(nameKey(name), t.PerName, now), t.waitLocked(addrKey(addr), t.PerAddr, now))
}

func (t *LoginThrottle) waitLocked(key string, limit int, now time.Time) time.Duration {
	f := t.failures[key]
	if f == nil || f.count < limit || now.Sub(f.last) > t.Window {
		return 0
	}
	pause := t.Pause << min(f.count-limit, 7)
	pause = min(pause, time.Hour)
	if wait := f.last.Add(pause).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

// Fail records a failed login.
func (t *LoginThrottle) Fail(name, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.failures == nil {
		t.failures = map[string]*failures{}
	}
	if len(t.failures) > 100_000 {
		t.sweepLocked(now)
	}
	for _, key := range []string{nameKey(name), addrKey(addr)} {
		f := t.failures[key]
		if f == nil || now.Sub(f.last) > t.Window {
			f = &failures{}
			t.failures[key] = f
		}
		f.count++
		f.last = now
	}
}

// Succeed forgets the failures of a name that has just logged in.
func (t *LoginThrottle) Succeed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, nameKey(name))
}

// sweepLocked drops records older than the window, bounding memory under a flood.
func (t *LoginThrottle) sweepLocked(now time.Time) {
	for k, f := range t.failures {
		if now.Sub(f.last) > t.Window {
			delete(t.failures, k)
		}
	}
}
