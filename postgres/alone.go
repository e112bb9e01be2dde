package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// An instance alone needs no rounds.
//
// The barrier's rounds (barrier.go) are there for the changes that other instances
// commit: an instance's own writes mark its copy before they return. So while no
// other instance can write, a read needs no round at all, and under load the rounds
// are what a store on PostgreSQL pays beside one on SQLite (about one ping every
// 250 µs, 15% of the round trips of a hundred customers listing the catalog).
//
// Who may write is known to the server, through one advisory lock per store (the
// presence lock, aloneLockClass and the hash of the store's channel):
//
//   - Every instance's listener holds it shared, for as long as it listens: this
//     instance is here and may write at any moment.
//   - Every transaction that changes products tries to take it shared for itself as
//     it begins (presentSQL, without waiting), so that while a write is in flight, on
//     an instance whose listener has just lost its connection or is stopping, no one
//     becomes alone.
//   - A listener that holds it shared tries, now and then (aloneTry), to take it
//     exclusive too. The server grants that only if no other session holds it: no
//     other instance listens, and no other instance's write is in flight. From then
//     on this instance is alone, and its reads are served from the copy without a
//     round, for aloneLease after the beginning of the listener's latest round
//     answered; a read that finds less than half of that left asks for a round ahead
//     of need, so about 40 pings a second under load instead of 4,000.
//
// An instance that comes, or whose listener comes back, finds the lock taken
// exclusive: its listener's try to take it shared fails, and it says so on the
// catalog's channel (a join notice, "INSTANCE join"). The lone instance, hearing it,
// is no longer alone at once (its reads need rounds again), lets the lock go at its
// listener's next step, and does not try to be alone again for aloneHoldOff. The
// newcomer's listener tries again at its next round, every aloneTry, and gets it.
//
// Until its listener holds the lock, an instance writes only after a join notice has
// been sent at least twice aloneLease before (joinedForWrites): a lone instance that
// heard it is alone no more; one that did not (its listener stalled, or cut off from
// the server) has gone longer than its lease without a round answered, so its reads
// wait for a round, and that round's answer comes after the notice. Either way, no
// read served from a copy misses the write. The notice stays good for writes for
// joinGood, well within aloneHoldOff; and a write takes its share of the lock with
// its BEGIN, so a lone instance that let the lock go cannot take it again before the
// write has ended, however long it runs.
//
// A store's instances run the same version: an older instance, which takes no
// presence lock, is invisible to this, and while one still writes, a lone newer
// instance sees its changes only as their notices arrive.
const (
	aloneLockClass int32 = 0x414c4f4e // "ALON"

	aloneLease   = 50 * time.Millisecond
	aloneTry     = aloneLease       // how often a listener tries to take the lock it lacks
	aloneSettle  = time.Second      // how long a new listener waits before it first tries to be alone
	aloneHoldOff = 10 * time.Second // how long after a join notice a listener does not try to be alone
	joinGood     = time.Second      // how long a join notice lets writes go
)

// presentSQL is queued first in every transaction that changes products; see above.
// Its answer is not looked at: an instance that could not take it has gone through
// joinedForWrites first.
const presentSQL = `SELECT pg_try_advisory_xact_lock_shared($1, hashtext($2))`

// tryShared and tryExclusive try to take the presence lock for the listener's session.
const (
	tryShared    = `SELECT pg_try_advisory_lock_shared($1, hashtext($2))`
	tryExclusive = `SELECT pg_try_advisory_lock($1, hashtext($2))`
)

// joinMark ends the payload of a join notice, after the instance's name.
const joinMark = " join"

// lone is an instance's part in the presence lock. Its fields are the listener's,
// but those said otherwise.
type lone struct {
	exclusive bool      // the listener holds the lock exclusive too
	release   bool      // a join notice was heard: let the exclusive hold go
	nextTry   time.Time // when the listener may next try to take the lock
	holdOff   time.Time // when the listener may next try to be alone
	// isAlone is whether the instance is alone, as its listener last found and
	// reported to the metrics; any goroutine may read it.
	isAlone atomic.Bool

	mu       sync.Mutex
	shared   bool          // the listener holds the lock shared
	settled  chan struct{} // closed once the listener has first tried to take it
	joinSent time.Time     // when the last join notice went out, by anyone here
	joinPrev time.Time     // and the one before
}

// presence queues presentSQL into a transaction that changes products.
func (s *Store) presence(b *pgx.Batch) {
	b.Queue(presentSQL, aloneLockClass, s.channel)
}

// holdsShared reports whether the listener holds the presence lock.
func (l *lone) holdsShared() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shared
}

// setShared records whether the listener holds the lock shared, and, the first time,
// that it has tried.
func (l *lone) setShared(held bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shared = held
	l.settle()
}

// settle records that the listener has tried to take the lock, or failed to
// connect; l.mu is held.
func (l *lone) settle() {
	select {
	case <-l.settled:
	default:
		close(l.settled)
	}
}

// sentJoin records a join notice sent at t.
func (l *lone) sentJoin(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.joinPrev, l.joinSent = l.joinSent, t
}

// joinedForWrites returns once this instance may write the catalog (see above): at
// once if its listener holds the presence lock, else once its listener has first
// tried to take it, and then, if it still does not hold it, once a join notice sent
// long enough ago is still good. It sends one if none is.
func (s *Store) joinedForWrites(ctx context.Context) error {
	l := &s.lone
	if l.holdsShared() {
		return nil
	}
	select {
	case <-l.settled:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		l.mu.Lock()
		if l.shared {
			l.mu.Unlock()
			return nil
		}
		now := time.Now()
		var ready time.Time // when a join notice sent already lets writes go; zero if none will
		for _, j := range []time.Time{l.joinPrev, l.joinSent} {
			if !j.IsZero() && now.Sub(j) < joinGood && (ready.IsZero() || j.Add(2*aloneLease).Before(ready)) {
				ready = j.Add(2 * aloneLease)
			}
		}
		fresh := !l.joinSent.IsZero() && now.Sub(l.joinSent) < joinGood/2
		l.mu.Unlock()
		if !ready.IsZero() && !now.Before(ready) {
			return nil
		}
		if !fresh {
			if err := s.sendJoin(ctx, s.pool); err != nil {
				return err
			}
			continue
		}
		t := time.NewTimer(time.Until(ready))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// execer is what sends a join notice: the pool, or the listener's connection.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// sendJoin sends a join notice through q, and records it.
func (s *Store) sendJoin(ctx context.Context, q execer) error {
	at := time.Now()
	if _, err := q.Exec(ctx, notifySQL, s.channel, s.instance+joinMark); err != nil {
		return err
	}
	s.lone.sentJoin(at)
	return nil
}

// joinHeard acts on another instance's join notice, in the listener's goroutine:
// this instance is no longer alone, from now on.
func (s *Store) joinHeard() {
	l := &s.lone
	s.catalog.barrier.aloneUntil.Store(0)
	l.holdOff = time.Now().Add(aloneHoldOff)
	if l.exclusive {
		l.release = true
		s.alone()
		s.catalog.barrier.want() // let the newcomer in at once, not at the next read
	}
}

// presenceStep is the listener's step before a round: it lets the exclusive hold go
// if a join notice was heard, and returns the statement that the round should be, if
// it should try to take the lock, else "".
func (s *Store) presenceStep(ctx context.Context, conn *pgx.Conn) (try string, err error) {
	l := &s.lone
	if l.release {
		ctx, cancel := context.WithTimeout(ctx, s.pingTimeout())
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, aloneLockClass, s.channel); err != nil {
			return "", err
		}
		l.exclusive, l.release = false, false
	}
	now := time.Now()
	switch {
	case now.Before(l.nextTry):
		return "", nil
	case !l.holdsShared():
		return tryShared, nil
	case !l.exclusive && !now.Before(l.holdOff):
		return tryExclusive, nil
	}
	return "", nil
}

// tryPresence is a round that tries to take the presence lock with try (from
// presenceStep), and records what it got. The answer comes after the notifications
// sent before it, as a ping's does.
func (s *Store) tryPresence(ctx context.Context, conn *pgx.Conn, try string) error {
	l := &s.lone
	l.nextTry = time.Now().Add(aloneTry)
	ctx, cancel := context.WithTimeout(ctx, s.pingTimeout())
	defer cancel()
	before := l.holdOff
	var got bool
	if err := conn.QueryRow(ctx, try, aloneLockClass, s.channel).Scan(&got); err != nil {
		return err
	}
	switch {
	case !l.holdsShared():
		l.setShared(got)
		l.mu.Lock()
		again := time.Since(l.joinSent) >= joinGood/2 // one notice does for many tries
		l.mu.Unlock()
		if !got && again {
			return s.sendJoin(ctx, conn)
		}
	case got:
		l.exclusive = true
		// A join notice heard while the lock was being taken: let it go again.
		l.release = l.holdOff != before
	}
	return nil
}

// alone reports whether the round that is ending lets reads go without rounds for
// aloneLease from its beginning: the listener holds the lock exclusive and has heard
// no join notice since it took it. A change is reported to the metrics.
func (s *Store) alone() bool {
	l := &s.lone
	alone := l.exclusive && !l.release
	if alone != l.isAlone.Load() {
		l.isAlone.Store(alone)
		s.metrics.Alone(alone)
	}
	return alone
}

// dropPresence forgets the lock, which the listener's lost connection took with it.
func (s *Store) dropPresence() {
	l := &s.lone
	s.catalog.barrier.aloneUntil.Store(0)
	l.exclusive, l.release = false, false
	s.alone()
	l.setShared(false)
}

// startPresence readies the listener, which now listens, to take the lock: at its
// first round, and to be alone not before aloneSettle, so that instances started
// together do not take turns being alone.
func (s *Store) startPresence() {
	l := &s.lone
	l.nextTry = time.Time{}
	if settle := time.Now().Add(aloneSettle); l.holdOff.Before(settle) {
		l.holdOff = settle
	}
}
