package storify

import (
	"context"
	"net/netip"
	"time"
)

// SharedLimits is a Store that several instances share (PostgreSQL) and that keeps
// the records of the store's limits for all of them: the login throttle's and the
// sign-up limits', so that each limit holds for the whole store, not per instance.
// The limits decide (package shell); the store only keeps their records, each an
// opaque value under a key, and lets one decision at a time read and change them.
type SharedLimits interface {
	// UpdateLimits calls fn with the records under keys (in that order; a zero
	// LimitRecord where a key has none) and the time now by the store's clock,
	// and keeps what fn leaves in recs, in one transaction, while every other
	// UpdateLimits on any of these keys, on any instance, waits. A record left
	// with a nil Value is removed. fn may be called more than once (a retry), so
	// it must decide from its arguments alone; if it returns an error, nothing is
	// kept and the error is returned. EUNAVAILABLE (ErrUnavailable) when the
	// database does not answer within the store's budget: nothing was decided.
	UpdateLimits(ctx context.Context, keys []string, fn func(now time.Time, recs []LimitRecord) error) error
}

// LimitRecord is one record of a limit: its value, encoded by the limit, and when
// it lapses: after Until it holds nothing that counts, and the store may drop it.
type LimitRecord struct {
	Value []byte
	Until time.Time
}

// Ban is an address, or a network of them, that the store turns away.
type Ban struct {
	Prefix netip.Prefix // masked: 203.0.113.0/24, or 198.51.100.7/32 for one address
	Until  time.Time    // the zero time: until it is lifted
}

// SharedBans is a Store that several instances share (PostgreSQL) and that keeps
// the manager's bans for all of them, so that a ban made on one instance turns
// connections away on every other. Each instance checks the connections it accepts
// against a copy of its own (no database call per connection), which it reads again
// when WatchBans tells it that the bans changed, and now and then in any case.
type SharedBans interface {
	// AddBan turns the addresses of p away until until (the zero time: until
	// RemoveBan), in place of any ban of exactly p.
	AddBan(ctx context.Context, p netip.Prefix, until time.Time) error
	// RemoveBan lifts the ban of exactly p, and reports whether there was one.
	RemoveBan(ctx context.Context, p netip.Prefix) (bool, error)
	// Bans lists the bans in force, in no particular order; lapsed ones are
	// left out.
	Bans(ctx context.Context) ([]Ban, error)
	// WatchBans has f called, on the store's own goroutine, whenever any
	// instance (this one too) may have changed the bans: f must not wait (it
	// should only signal). A nil f stops the calls. Changes made while the store
	// could not hear are not told: read Bans now and then as well.
	WatchBans(f func())
}
