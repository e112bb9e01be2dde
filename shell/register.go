package shell

import (
	"sync"
	"time"
)

// RegisterThrottle limits sign-ups: register answers at once whether a name is
// taken (it must, to be useful), so name checks are counted per address, and new
// accounts are counted per address and for the whole store. A sign-up holds its
// places from the name check on, so parallel sign-ups cannot pass a limit together.
// One RegisterThrottle is shared by every session of a server.
type RegisterThrottle struct {
	ChecksPerAddr   int // register commands (name checks) per address per Period (default 20)
	AccountsPerAddr int // accounts opened per address per Period (default 5)
	AccountsPerShop int // accounts opened in all per Period (default 100)
	Period          time.Duration
	Now             func() time.Time

	mu     sync.Mutex
	checks window
	accts  window
}

// NewRegisterThrottle returns a throttle with the default limits and perShop
// accounts an hour for the whole store (0: the default).
func NewRegisterThrottle(perShop int) *RegisterThrottle {
	if perShop <= 0 {
		perShop = 100
	}
	return &RegisterThrottle{ChecksPerAddr: 20, AccountsPerAddr: 5, AccountsPerShop: perShop, Period: time.Hour, Now: time.Now}
}

// shopKey is the window key that counts accounts for the whole store; no address
// looks like it.
const shopKey = "*"

// Registration is a sign-up in progress: Done when the account is opened, Release
// when it is not.
type Registration struct {
	t    *RegisterThrottle
	addr string
	at   time.Time
	done bool
}

// Check counts a name check from addr; it returns how long to wait if there have
// been too many.
func (t *RegisterThrottle) Check(addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if wait := t.checks.wait(addr, t.ChecksPerAddr, t.Period, now); wait > 0 {
		return wait
	}
	t.checks.add(addr, now)
	return 0
}

// Reserve holds a place for a new account from addr, or says how long to wait.
func (t *RegisterThrottle) Reserve(addr string) (*Registration, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	wait := max(t.accts.wait(addr, t.AccountsPerAddr, t.Period, now), t.accts.wait(shopKey, t.AccountsPerShop, t.Period, now))
	if wait > 0 {
		return nil, wait
	}
	t.accts.add(addr, now)
	t.accts.add(shopKey, now)
	return &Registration{t: t, addr: addr, at: now}, 0
}

// Done keeps the place: the account is open.
func (r *Registration) Done() { r.done = true }

// Release gives the place back: no account was opened.
func (r *Registration) Release() {
	if r == nil || r.done {
		return
	}
	r.done = true
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	r.t.accts.remove(r.addr, r.at)
	r.t.accts.remove(shopKey, r.at)
}

// window counts events per key within a period.
type window map[string][]time.Time

func (w *window) wait(key string, limit int, period time.Duration, now time.Time) time.Duration {
	ts := (*w)[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= period {
		ts = ts[1:]
	}
	if len(ts) == 0 {
		delete(*w, key)
	} else {
		(*w)[key] = ts
	}
	if len(ts) < limit {
		return 0
	}
	return ts[len(ts)-limit].Add(period).Sub(now)
}

func (w *window) add(key string, now time.Time) {
	if *w == nil {
		*w = window{}
	}
	if len(*w) > 100_000 {
		for k, ts := range *w {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > time.Hour {
				delete(*w, k)
			}
		}
	}
	(*w)[key] = append((*w)[key], now)
}

func (w *window) remove(key string, at time.Time) {
	ts := (*w)[key]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(at) {
			(*w)[key] = append(ts[:i], ts[i+1:]...)
			return
		}
	}
}
