package shell

import (
	"context"
	"time"

	"github.com/storify/storify"
)

// LoginThrottle slows down password guessing. One throttle is shared by every
// session of a server; names are keyed by username.Key, so that every spelling of
// one account name is throttled as one. With Shared set (a store that several
// instances share), its records are the store's, so that it holds for the whole
// store: however the connections spread over the instances, the limits are those
// of one throttle.
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
// and a password typed after that is checked only if a place is free then. A check
// holds its places for CheckHold at most, so that an instance that stopped in the
// middle of one (it crashed) keeps no name locked for longer. Refused attempts
// change nothing: only a checked, wrong password escalates. Names that do not exist
// are throttled exactly like names that do.
//
// Every method that takes a ctx may fail only with Shared set, when the database
// does not answer (storify.ErrUnavailable): the attempt is then refused, never
// let through unchecked.
type LoginThrottle struct {
	PerName    int           // failures per name before pauses (default 5)
	PerAddr    int           // distinct names failed from one address before it is held (default 20)
	Window     time.Duration // failures older than this are forgotten (default 15m)
	Pause      time.Duration // the first pause (default 30s); doubles with each failure past the limit
	MaxPause   time.Duration // the longest pause (default 15m)
	KnownFor   time.Duration // how long a name that logged in from an address stays known there (default 30 days)
	PromptHold time.Duration // how long an open password prompt holds a place (default 30s)
	// CheckHold is how long a password check holds its places at most (default
	// 2m): far longer than a check takes (--db-timeout and the hashing), it only
	// matters for a check that never ends, because its instance stopped.
	CheckHold time.Duration
	// Now is the clock of the records kept in memory; shared records go by the
	// store's clock, one for every instance.
	Now func() time.Time
	// Shared, if set, keeps the records in the store that the instances share;
	// nil keeps them in this process's memory.
	Shared storify.SharedLimits

	mem memLimits
}

// The records of the login throttle, by key: one per name, one per address, and
// one per name known at an address.
const (
	nameKeyPrefix  = "login name "
	addrKeyPrefix  = "login addr "
	knownKeyPrefix = "login known "
)

// nameRecord is what the throttle keeps of a name.
type nameRecord struct {
	Failures int                  `json:"f,omitempty"`
	Last     time.Time            `json:"l,omitzero"`  // of the last failure
	Prompts  map[string]time.Time `json:"p,omitempty"` // open password prompts, by attempt: when each was reserved
	Checking map[string]time.Time `json:"c,omitempty"` // passwords being checked, by attempt: when each began
}

// addrRecord is what the throttle keeps of an address. The names that logged in
// from it have records of their own (knownKeyPrefix), as there may be many.
type addrRecord struct {
	Failed   map[string]time.Time `json:"f,omitempty"` // names that failed from here: when, last
	Last     time.Time            `json:"l,omitzero"`  // of the last failure on a name new to this address
	Checking map[string]time.Time `json:"c,omitempty"` // checks in flight on names new to this address, by attempt
}

// loginRecords are the records one attempt reads and changes.
type loginRecords struct {
	name  nameRecord
	addr  addrRecord
	known time.Time // when the name last logged in from the address
}

// NewLoginThrottle returns a throttle with the default limits.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{
		PerName: 5, PerAddr: 20, Window: 15 * time.Minute, Pause: 30 * time.Second,
		MaxPause: 15 * time.Minute, KnownFor: 30 * 24 * time.Hour, PromptHold: 30 * time.Second,
		CheckHold: 2 * time.Minute, Now: time.Now,
	}
}

// Attempt is one login attempt. Check is called before the password is checked;
// then exactly one of Fail, Succeed or Release (Release is harmless after either).
type Attempt struct {
	t         *LoginThrottle
	id        string // names its places in the records
	name      string
	addr      string
	checked   bool // Check granted it: it holds a place in checking
	newToAddr bool // it holds a place in its address's checking too
	done      bool
}

// update runs fn on the attempt's records, read under the lock of the throttle's
// state, and keeps what fn leaves in them. fn may run more than once.
func (t *LoginThrottle) update(ctx context.Context, at *Attempt, fn func(r *loginRecords, now time.Time)) error {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	keys := []string{nameKeyPrefix + at.name, addrKeyPrefix + at.addr, knownKeyPrefix + at.addr + " " + at.name}
	return limitState(ctx, t.Shared, &t.mem, now, keys, func(now time.Time, recs []storify.LimitRecord) error {
		var r loginRecords
		decodeRecord(recs[0], &r.name)
		decodeRecord(recs[1], &r.addr)
		decodeRecord(recs[2], &r.known)
		fn(&r, now)
		recs[0] = t.encodeName(&r.name, now)
		recs[1] = t.encodeAddr(&r.addr, now)
		recs[2] = encodeRecord(r.known, r.known.Add(t.KnownFor), r.known.IsZero() || now.Sub(r.known) > t.KnownFor)
		return nil
	})
}

// encodeName makes a name's record, without what has lapsed; it lapses once
// nothing in it counts any more.
func (t *LoginThrottle) encodeName(n *nameRecord, now time.Time) storify.LimitRecord {
	t.dropLapsed(n, now)
	until := n.Last.Add(t.Window)
	for _, opened := range n.Prompts {
		until = latest(until, opened.Add(t.PromptHold))
	}
	for _, began := range n.Checking {
		until = latest(until, began.Add(t.CheckHold))
	}
	return encodeRecord(n, until, n.Failures == 0 && len(n.Prompts) == 0 && len(n.Checking) == 0)
}

// encodeAddr makes an address's record, without what has lapsed.
func (t *LoginThrottle) encodeAddr(a *addrRecord, now time.Time) storify.LimitRecord {
	var until time.Time
	for name, at := range a.Failed {
		if now.Sub(at) > t.Window {
			delete(a.Failed, name)
		} else {
			until = latest(until, at.Add(t.Window))
		}
	}
	for id, began := range a.Checking {
		if now.Sub(began) >= t.CheckHold {
			delete(a.Checking, id)
		} else {
			until = latest(until, began.Add(t.CheckHold))
		}
	}
	return encodeRecord(a, until, len(a.Failed) == 0 && len(a.Checking) == 0)
}

// dropLapsed forgets a name's lapsed places, and its failures once they are older
// than Window with no check in flight.
func (t *LoginThrottle) dropLapsed(n *nameRecord, now time.Time) {
	for id, opened := range n.Prompts {
		if now.Sub(opened) >= t.PromptHold {
			delete(n.Prompts, id) // lapsed; its Check looks for a free place
		}
	}
	for id, began := range n.Checking {
		if now.Sub(began) >= t.CheckHold {
			delete(n.Checking, id) // its instance stopped in the middle of it
		}
	}
	if now.Sub(n.Last) > t.Window && len(n.Checking) == 0 {
		n.Failures = 0
	}
}

// Reserve reserves a login attempt for the name key from addr, before the password
// prompt. When the attempt may not be made now, it returns nil and how long to wait.
// The error is the store's, when the records are shared and cannot be reached.
func (t *LoginThrottle) Reserve(ctx context.Context, name, addr string) (*Attempt, time.Duration, error) {
	at := &Attempt{t: t, id: newPlaceID(), name: name, addr: addr}
	var wait time.Duration
	err := t.update(ctx, at, func(r *loginRecords, now time.Time) {
		wait = t.nameWait(&r.name, now)
		if wait > 0 {
			return
		}
		// An address already paused for spraying is told so before the prompt;
		// its place is taken only when the password is checked, so that customers
		// behind one address logging in at the same time are not turned away
		// while they type.
		if r.isNew(at.name, now, t) {
			if wait = t.wait(r.addr.failedNames(now, t.Window), 0, t.PerAddr, r.addr.Last, now); wait > 0 {
				return
			}
		}
		if r.name.Prompts == nil {
			r.name.Prompts = map[string]time.Time{}
		}
		r.name.Prompts[at.id] = now
	})
	if err != nil {
		return nil, 0, err
	}
	if wait > 0 {
		return nil, wait, nil
	}
	return at, 0, nil
}

// Check takes the attempt's places right before its password is checked: under
// the per-name rule (its prompt's place if that has not lapsed, else a free one)
// and under the per-address rule. When the check may not be made now, it
// releases the attempt and returns how long to wait. On an error the attempt is
// not checked either.
func (at *Attempt) Check(ctx context.Context) (time.Duration, bool, error) {
	t := at.t
	var wait time.Duration
	var newToAddr bool
	err := t.update(ctx, at, func(r *loginRecords, now time.Time) {
		wait, newToAddr = 0, false
		n := &r.name
		opened, ok := n.Prompts[at.id]
		delete(n.Prompts, at.id)
		if !ok || now.Sub(opened) >= t.PromptHold {
			if wait = t.nameWait(n, now); wait > 0 {
				return
			}
		}
		newToAddr = r.isNew(at.name, now, t)
		if newToAddr {
			if wait = t.wait(r.addr.failedNames(now, t.Window), r.addr.checking(now, t.CheckHold), t.PerAddr, r.addr.Last, now); wait > 0 {
				return
			}
			if r.addr.Checking == nil {
				r.addr.Checking = map[string]time.Time{}
			}
			r.addr.Checking[at.id] = now
		}
		if n.Checking == nil {
			n.Checking = map[string]time.Time{}
		}
		n.Checking[at.id] = now
	})
	if err != nil {
		// The records cannot be reached to give the prompt's place back: it lapses.
		at.done = true
		return 0, false, err
	}
	if wait > 0 {
		at.done = true // its prompt's place is given back already
		return wait, false, nil
	}
	at.checked, at.newToAddr = true, newToAddr
	return 0, true, nil
}

// nameWait is how long until one more attempt for a name may hold a place.
func (t *LoginThrottle) nameWait(n *nameRecord, now time.Time) time.Duration {
	t.dropLapsed(n, now)
	return t.wait(n.Failures, len(n.Checking)+len(n.Prompts), t.PerName, n.Last, now)
}

// wait applies one limit: with failures so far and attempts in flight, how long
// until one more attempt may be made (0: now).
func (t *LoginThrottle) wait(failures, inFlight, limit int, last, now time.Time) time.Duration {
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

// isNew reports whether name is new to the address: it neither logged in from
// there within KnownFor nor failed from there within Window.
func (r *loginRecords) isNew(name string, now time.Time, t *LoginThrottle) bool {
	if !r.known.IsZero() && now.Sub(r.known) <= t.KnownFor {
		return false
	}
	if at, ok := r.addr.Failed[name]; ok && now.Sub(at) <= t.Window {
		return false
	}
	return true
}

func (a *addrRecord) failedNames(now time.Time, window time.Duration) int {
	n := 0
	for _, at := range a.Failed {
		if now.Sub(at) <= window {
			n++
		}
	}
	return n
}

// checking counts the address's checks in flight on new names, lapsed ones left out.
func (a *addrRecord) checking(now time.Time, hold time.Duration) int {
	n := 0
	for _, began := range a.Checking {
		if now.Sub(began) < hold {
			n++
		}
	}
	return n
}

// Fail records that the attempt's password was checked and was wrong. On an error
// the failure is not recorded: the attempt's places stay taken until they lapse
// (CheckHold), and the caller must not tell the outcome of the check.
func (at *Attempt) Fail(ctx context.Context) error {
	return at.finish(ctx, func(r *loginRecords, now time.Time) {
		r.name.Failures++
		r.name.Last = now
		if at.newToAddr {
			r.addr.Last = now
		}
		if r.addr.Failed == nil {
			r.addr.Failed = map[string]time.Time{}
		}
		r.addr.Failed[at.name] = now
	})
}

// Succeed records a login: the name's failures are forgotten, and the name is
// known at the address from now on. On an error the places stay taken until they
// lapse.
func (at *Attempt) Succeed(ctx context.Context) error {
	return at.finish(ctx, func(r *loginRecords, now time.Time) {
		r.name.Failures = 0
		r.known = now
	})
}

// Release gives the attempt back undecided: no password was checked. It needs
// no answer: when the records cannot be reached, the places lapse.
func (at *Attempt) Release(ctx context.Context) {
	at.finish(ctx, func(*loginRecords, time.Time) {})
}

func (at *Attempt) finish(ctx context.Context, record func(r *loginRecords, now time.Time)) error {
	if at == nil || at.done {
		return nil
	}
	at.done = true
	return at.t.update(ctx, at, func(r *loginRecords, now time.Time) {
		delete(r.name.Prompts, at.id)
		delete(r.name.Checking, at.id)
		if at.newToAddr {
			delete(r.addr.Checking, at.id)
		}
		record(r, now)
	})
}
