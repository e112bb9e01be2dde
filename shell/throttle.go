package shell

import (
	"sync"
	"time"
)

// LoginThrottle slows down password guessing. One throttle is shared by every
// session of a server; names are keyed by username.Key, so that every spelling of
// one account name is throttled as one.
//
// An attempt is reserved for its name before the password is asked for
// (Reserve), and again, atomically with the decision to check it, right before
// the password is checked (Check), where its address's place is taken too. An
// attempt in flight counts as a failure until it is decided, so however many
// connections ask at once, no more guesses are ever checked than the rules allow:
//
//   - Per name: PerName failures within Window; then one more guess each time a
//     pause has passed, the pause starting at Pause and doubling with each further
//     failure, at most MaxPause. A success forgets the name's failures.
//   - Per address (IPv4, or IPv6 /64): the rule is against spraying, that is
//     failures across many names. Once an address has failed for PerAddr distinct
//     names within Window, it may try no further name until a pause has passed
//     (doubling the same way per further name), except names that have logged in
//     from that address within KnownFor, and names it has already tried (which
//     the per-name rule caps). Failures on one name never pause the address, so
//     someone guessing at bob does not keep alice, behind the same address, out.
//
// An open password prompt holds its name's place for PromptHold at most: prompts
// left open cannot keep a name locked (its owner is asked again once they lapse),
// and a password typed after that is checked only if a place is free then.
// Refused attempts change nothing: only a checked, wrong password escalates. Names
// that do not exist are throttled exactly like names that do.
type LoginThrottle struct {
	PerName    int           // failures per name before pauses (default 5)
	PerAddr    int           // distinct names failed from one address before it is held (default 20)
	Window     time.Duration // failures older than this are forgotten (default 15m)
	Pause      time.Duration // the first pause (default 30s); doubles with each failure past the limit
	MaxPause   time.Duration // the longest pause (default 15m)
	KnownFor   time.Duration // how long a name that logged in from an address stays known there (default 30 days)
	PromptHold time.Duration // how long an open password prompt holds a place (default 30s)
	Now        func() time.Time

	mu    sync.Mutex
	names map[string]*nameRecord
	addrs map[string]*addrRecord
}

type nameRecord struct {
	failures int
	last     time.Time              // of the last failure
	prompts  map[*Attempt]time.Time // open password prompts: when each was reserved
	checking int                    // passwords being checked
}

type addrRecord struct {
	failed   map[string]time.Time // names that failed from here: when, last
	last     time.Time            // of the last failure on a name new to this address
	checking int                  // checks in flight on names new to this address
	known    map[string]time.Time // names that logged in from here: when, last
}

// NewLoginThrottle returns a throttle with the default limits.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{
		PerName: 5, PerAddr: 20, Window: 15 * time.Minute, Pause: 30 * time.Second,
		MaxPause: 15 * time.Minute, KnownFor: 30 * 24 * time.Hour, PromptHold: 30 * time.Second,
		Now: time.Now,
	}
}

// Attempt is one login attempt. Check is called before the password is checked;
// then exactly one of Fail, Succeed or Release (Release is harmless after either).
type Attempt struct {
	t         *LoginThrottle
	name      string
	addr      string
	checked   bool // Check granted it: it holds a place in checking
	newToAddr bool // it holds a place in its address's checking too
	done      bool
}

// Reserve reserves a login attempt for the name key from addr, before the password
// prompt. When the attempt may not be made now, it returns nil and how long to wait.
func (t *LoginThrottle) Reserve(name, addr string) (*Attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.names == nil {
		t.names, t.addrs = map[string]*nameRecord{}, map[string]*addrRecord{}
	}
	if len(t.names)+len(t.addrs) > 100_000 {
		t.sweepLocked(now)
	}
	if wait := t.nameWaitLocked(name, now); wait > 0 {
		return nil, wait
	}
	// An address already paused for spraying is told so before the prompt; its
	// place is taken only when the password is checked, so that customers behind
	// one address logging in at the same time are not turned away while they type.
	a := t.addrs[addr]
	if a.isNew(name, now, t.Window, t.KnownFor) {
		if wait := t.waitLocked(a.failedNames(now, t.Window), 0, t.PerAddr, a.lastFailure(), now); wait > 0 {
			return nil, wait
		}
	}
	at := &Attempt{t: t, name: name, addr: addr}
	t.name(name).prompts[at] = now
	return at, 0
}

// Check takes the attempt's places right before its password is checked: under
// the per-name rule (its prompt's place if that has not lapsed, else a free one)
// and under the per-address rule. When the check may not be made now, it
// releases the attempt and returns how long to wait.
func (at *Attempt) Check() (time.Duration, bool) {
	t := at.t
	t.mu.Lock()
	now := t.Now()
	n := t.name(at.name)
	opened, ok := n.prompts[at]
	delete(n.prompts, at)
	if !ok || now.Sub(opened) >= t.PromptHold {
		if wait := t.nameWaitLocked(at.name, now); wait > 0 {
			t.mu.Unlock()
			at.Release()
			return wait, false
		}
	}
	a := t.addrs[at.addr]
	newToAddr := a.isNew(at.name, now, t.Window, t.KnownFor)
	if newToAddr {
		if wait := t.waitLocked(a.failedNames(now, t.Window), a.checkingCount(), t.PerAddr, a.lastFailure(), now); wait > 0 {
			t.mu.Unlock()
			at.Release()
			return wait, false
		}
		if a == nil {
			a = &addrRecord{}
			t.addrs[at.addr] = a
		}
		a.checking++
	}
	n.checking++
	at.checked, at.newToAddr = true, newToAddr
	t.mu.Unlock()
	return 0, true
}

// name returns the record of a name, made if needed; t.mu must be held.
func (t *LoginThrottle) name(name string) *nameRecord {
	if t.names == nil {
		t.names, t.addrs = map[string]*nameRecord{}, map[string]*addrRecord{}
	}
	n := t.names[name]
	if n == nil {
		n = &nameRecord{prompts: map[*Attempt]time.Time{}}
		t.names[name] = n
	}
	return n
}

// nameWaitLocked is how long until one more attempt for name may hold a place.
func (t *LoginThrottle) nameWaitLocked(name string, now time.Time) time.Duration {
	n := t.names[name]
	if n == nil {
		return 0
	}
	if now.Sub(n.last) > t.Window && n.checking == 0 {
		n.failures = 0
	}
	inFlight := n.checking
	for at, opened := range n.prompts {
		if now.Sub(opened) < t.PromptHold {
			inFlight++
		} else {
			delete(n.prompts, at) // lapsed; its Check looks for a free place
		}
	}
	return t.waitLocked(n.failures, inFlight, t.PerName, n.last, now)
}

// waitLocked applies one limit: with failures so far and attempts in flight, how
// long until one more attempt may be made (0: now).
func (t *LoginThrottle) waitLocked(failures, inFlight, limit int, last, now time.Time) time.Duration {
	if failures+inFlight < limit {
		return 0
	}
	if failures < limit || inFlight > 0 {
		// The limit is reached by attempts in flight; they are decided soon.
		return 2 * time.Second
	}
	pause := t.Pause << min(failures-limit, 20)
	if pause <= 0 || pause > t.MaxPause {
		pause = t.MaxPause
	}
	if wait := last.Add(pause).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

func (a *addrRecord) isNew(name string, now time.Time, window, knownFor time.Duration) bool {
	if a == nil {
		return true
	}
	if at, ok := a.known[name]; ok && now.Sub(at) <= knownFor {
		return false
	}
	if at, ok := a.failed[name]; ok && now.Sub(at) <= window {
		return false
	}
	return true
}

func (a *addrRecord) failedNames(now time.Time, window time.Duration) int {
	if a == nil {
		return 0
	}
	n := 0
	for _, at := range a.failed {
		if now.Sub(at) <= window {
			n++
		}
	}
	return n
}

func (a *addrRecord) checkingCount() int {
	if a == nil {
		return 0
	}
	return a.checking
}

func (a *addrRecord) lastFailure() time.Time {
	if a == nil {
		return time.Time{}
	}
	return a.last
}

// Fail records that the attempt's password was checked and was wrong.
func (at *Attempt) Fail() {
	at.finish(func(t *LoginThrottle, now time.Time) {
		n := t.name(at.name)
		n.failures++
		n.last = now
		a := t.addrs[at.addr]
		if a == nil {
			a = &addrRecord{}
			t.addrs[at.addr] = a
		}
		if a.failed == nil {
			a.failed = map[string]time.Time{}
		}
		if at.newToAddr {
			a.last = now
		}
		a.failed[at.name] = now
	})
}

// Succeed records a login: the name's failures are forgotten, and the name is
// known at the address from now on.
func (at *Attempt) Succeed() {
	at.finish(func(t *LoginThrottle, now time.Time) {
		t.names[at.name].failures = 0
		a := t.addrs[at.addr]
		if a == nil {
			a = &addrRecord{}
			t.addrs[at.addr] = a
		}
		if a.known == nil {
			a.known = map[string]time.Time{}
		}
		if len(a.known) < 10_000 {
			a.known[at.name] = now
		}
	})
}

// Release gives the attempt back undecided: no password was checked.
func (at *Attempt) Release() { at.finish(func(*LoginThrottle, time.Time) {}) }

func (at *Attempt) finish(record func(t *LoginThrottle, now time.Time)) {
	if at == nil || at.done {
		return
	}
	at.done = true
	t := at.t
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.name(at.name)
	delete(n.prompts, at)
	if at.checked {
		n.checking--
	}
	if at.newToAddr {
		if a := t.addrs[at.addr]; a != nil {
			a.checking--
		}
	}
	record(t, t.Now())
	if n.failures == 0 && n.checking == 0 && len(n.prompts) == 0 {
		delete(t.names, at.name)
	}
}

// sweepLocked drops records with nothing in flight and nothing recent, bounding
// memory under a flood.
func (t *LoginThrottle) sweepLocked(now time.Time) {
	for k, n := range t.names {
		for at, opened := range n.prompts {
			if now.Sub(opened) >= t.PromptHold {
				delete(n.prompts, at)
			}
		}
		if n.checking == 0 && len(n.prompts) == 0 && now.Sub(n.last) > t.Window {
			delete(t.names, k)
		}
	}
	for k, a := range t.addrs {
		for name, at := range a.failed {
			if now.Sub(at) > t.Window {
				delete(a.failed, name)
			}
		}
		for name, at := range a.known {
			if now.Sub(at) > t.KnownFor {
				delete(a.known, name)
			}
		}
		if a.checking == 0 && len(a.failed) == 0 && len(a.known) == 0 {
			delete(t.addrs, k)
		}
	}
}
