package shell

import (
	"context"
	"slices"
	"time"

	"github.com/storify/storify"
)

// RegisterThrottle limits sign-ups: register answers at once whether a name is
// taken (it must, to be useful), so name checks are counted per address, and new
// accounts are counted per address and for the whole store. A sign-up holds its
// places from the name check on, so parallel sign-ups cannot pass a limit together.
// One RegisterThrottle is shared by every session of a server; with Shared set (a
// store that several instances share) its counts are the store's, so that the
// limits hold for the whole store, not per instance. Its methods fail only then,
// when the database does not answer: the sign-up is refused.
type RegisterThrottle struct {
	ChecksPerAddr   int // register commands (name checks) per address per Period (default 20)
	AccountsPerAddr int // accounts opened per address per Period (default 5)
	AccountsPerShop int // accounts opened in all per Period (default 100)
	Period          time.Duration
	// Now is the clock of the counts kept in memory; shared counts go by the
	// store's clock.
	Now func() time.Time
	// Shared, if set, keeps the counts in the store that the instances share;
	// nil keeps them in this process's memory.
	Shared storify.SharedLimits

	mem memLimits
}

// NewRegisterThrottle returns a throttle with the default limits and perShop
// accounts an hour for the whole store (0: the default).
func NewRegisterThrottle(perShop int) *RegisterThrottle {
	if perShop <= 0 {
		perShop = 100
	}
	return &RegisterThrottle{ChecksPerAddr: 20, AccountsPerAddr: 5, AccountsPerShop: perShop, Period: time.Hour, Now: time.Now}
}

// The records of the sign-up limits, by key: name checks per address, accounts
// per address, and accounts for the whole store (no address looks like "*").
const (
	checksKeyPrefix   = "signup checks "
	accountsKeyPrefix = "signup accounts "
	shopKey           = accountsKeyPrefix + "*"
)

// Registration is a sign-up in progress: Done when the account is opened, Release
// when it is not.
type Registration struct {
	t    *RegisterThrottle
	addr string
	at   time.Time
	done bool
}

// update runs fn on the windows under keys, read under the lock of the
// throttle's state, and keeps what fn leaves in them.
func (t *RegisterThrottle) update(ctx context.Context, keys []string, fn func(ws []window, now time.Time)) error {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	return limitState(ctx, t.Shared, &t.mem, now, keys, func(now time.Time, recs []storify.LimitRecord) error {
		ws := make([]window, len(recs))
		for i, r := range recs {
			decodeRecord(r, &ws[i])
			ws[i] = ws[i].since(now, t.Period)
		}
		fn(ws, now)
		for i, w := range ws {
			var until time.Time
			if len(w) > 0 {
				until = w[len(w)-1].Add(t.Period)
			}
			recs[i] = encodeRecord(w, until, len(w) == 0)
		}
		return nil
	})
}

// Check counts a name check from addr; it returns how long to wait if there have
// been too many.
func (t *RegisterThrottle) Check(ctx context.Context, addr string) (time.Duration, error) {
	var wait time.Duration
	err := t.update(ctx, []string{checksKeyPrefix + addr}, func(ws []window, now time.Time) {
		if wait = ws[0].wait(t.ChecksPerAddr, t.Period, now); wait == 0 {
			ws[0] = append(ws[0], now)
		}
	})
	return wait, err
}

// Reserve holds a place for a new account from addr, or says how long to wait.
func (t *RegisterThrottle) Reserve(ctx context.Context, addr string) (*Registration, time.Duration, error) {
	var wait time.Duration
	var at time.Time
	err := t.update(ctx, []string{accountsKeyPrefix + addr, shopKey}, func(ws []window, now time.Time) {
		wait = max(ws[0].wait(t.AccountsPerAddr, t.Period, now), ws[1].wait(t.AccountsPerShop, t.Period, now))
		if wait == 0 {
			ws[0], ws[1] = append(ws[0], now), append(ws[1], now)
			at = now
		}
	})
	if err != nil {
		return nil, 0, err
	}
	if wait > 0 {
		return nil, wait, nil
	}
	return &Registration{t: t, addr: addr, at: at}, 0, nil
}

// Done keeps the place: the account is open.
func (r *Registration) Done() { r.done = true }

// Release gives the place back: no account was opened. It needs no answer: a
// place that cannot be given back (the database is away) lapses after Period.
func (r *Registration) Release(ctx context.Context) {
	if r == nil || r.done {
		return
	}
	r.done = true
	r.t.update(ctx, []string{accountsKeyPrefix + r.addr, shopKey}, func(ws []window, _ time.Time) {
		ws[0], ws[1] = ws[0].remove(r.at), ws[1].remove(r.at)
	})
}

// window is the times of the events counted under one key within a period, oldest
// first.
type window []time.Time

// since is w without the times that are period old or older.
func (w window) since(now time.Time, period time.Duration) window {
	for len(w) > 0 && now.Sub(w[0]) >= period {
		w = w[1:]
	}
	return w
}

// wait is how long until one more event may be counted, within limit per period.
func (w window) wait(limit int, period time.Duration, now time.Time) time.Duration {
	if len(w) < limit {
		return 0
	}
	return w[len(w)-limit].Add(period).Sub(now)
}

// remove is w without one time equal to at.
func (w window) remove(at time.Time) window {
	for i := len(w) - 1; i >= 0; i-- {
		if w[i].Equal(at) {
			return slices.Delete(w, i, i+1)
		}
	}
	return w
}
