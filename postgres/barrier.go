package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// readWindow is how recent a round of the listener must be for a read to be served
// from the copy without waiting for a round of its own: a read that begins at T sees
// every change committed, on any instance, before T − readWindow (a change committed
// within the window is seen if its notification has been read, and may not be).
//
// Why 500 µs. A round is one ping on the listener's connection: 50 to 150 µs on
// loopback or a LAN, more on a busy machine. A read that finds the last round older
// than half the window asks for the next one and does not wait for it, so while reads
// keep coming (a browsing customer sends one every 40 µs or so over loopback), a
// round is nearly always in hand and no read waits; half a window has to cover a
// round for that. And the window is what another instance may lag behind: it is
// shorter than a durable commit on the machines measured here (0.5 to 3 ms from
// BEGIN to the answer to COMMIT), and 100 to 1000 times shorter than anything a
// person does between seeing a change made and looking for it elsewhere. A shorter
// window means more rounds, and reads that wait for them under load; at 0 every read
// waits for a round that began after it, as it did before there was a window.
const readWindow = 500 * time.Microsecond

// clock is the time on the process's monotonic clock, in nanoseconds since the
// package was loaded: a round's beginning fits one atomic word.
func clock() int64 { return max(int64(time.Since(epoch)), 1) }

var epoch = time.Now()

// A barrier lets reads wait until the listener has heard of every change committed
// before they began, less readWindow, without a round trip each: a read served from
// a round that began within the window waits for nothing, and the reads that arrive
// when there is none wait together for one ping on the listener's connection.
//
// That the ping's answer comes after the notifications of those changes is
// PostgreSQL's doing: a committing backend signals the listening backends before it
// answers its client, so by the time a round begins after a write has returned, the
// listener's backend has been signalled, and a backend sends the notifications it was
// signalled for before it answers its next command. The listener invalidates the copy
// as each notification is received (OnNotification), so when the ping returns, every
// one of them has; only then is the round recorded as answered (fresh). Between
// rounds the listener reads the notifications as they come (awaitRound), and a round
// wanted interrupts that read, so a change committed within the window is mostly seen
// as soon as its notification arrives.
type barrier struct {
	mu      sync.Mutex
	up      bool          // the listener is LISTENing; else reads go to the database
	current *round        // the round in flight; nil if none
	next    *round        // the round that reads arriving now wait for; nil if none is wanted yet
	kick    chan struct{} // a token tells the listener that a round is wanted; buffered, 1

	// fresh is when the latest round answered while the listener listens began
	// (clock), 0 if none: every change committed before then has invalidated the copy.
	fresh atomic.Int64
	// aloneUntil is, while this instance is alone (alone.go), when the lease of the
	// latest round answered ends (clock): until then a read needs no round. 0 if it
	// is not alone.
	aloneUntil atomic.Int64
	// rounds counts the rounds begun, for the tests.
	rounds atomic.Int64
	// refreshing is set by the read that asks for a round ahead of need, so that the
	// reads after it do not ask again; the round clears it when it ends.
	refreshing atomic.Bool
}

// round is one ping of the listener, and the reads that wait for it.
type round struct {
	b     *barrier
	began int64         // clock, taken before the ping was sent
	done  chan struct{} // closed when the round is over
	heard bool          // the ping was answered: every change before it has invalidated the copy
}

// wait waits, if need be, for a round of the listener that began at most readWindow
// before the call. It reports whether the round was answered; if not, or if the
// listener is not listening, the caller must read the database. The error is ctx's,
// if it ends first.
func (b *barrier) wait(ctx context.Context) (heard bool, err error) {
	now := clock()
	if u := b.aloneUntil.Load(); now < u {
		if u-now < int64(aloneLease/2) && b.refreshing.CompareAndSwap(false, true) {
			b.want()
		}
		return true, nil
	}
	if f := b.fresh.Load(); f != 0 && now-f <= int64(readWindow) {
		if now-f > int64(readWindow/2) && b.refreshing.CompareAndSwap(false, true) {
			b.want()
		}
		return true, nil
	}
	b.mu.Lock()
	if !b.up {
		b.mu.Unlock()
		return false, nil
	}
	r := b.current
	if r == nil || now-r.began > int64(readWindow) {
		r = b.next
		if r == nil {
			r = &round{done: make(chan struct{})}
			b.next = r
			b.want()
		}
	}
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.heard, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// want tells the listener that a round is wanted.
func (b *barrier) want() {
	select {
	case b.kick <- struct{}{}:
	default: // a token is there already
	}
}

// start begins a round: the one reads wait for, if any, else one of the listener's
// own (ahead of need, or because it has been idle).
func (b *barrier) start() *round {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.next
	if r == nil {
		r = &round{done: make(chan struct{})}
	}
	b.next = nil
	r.b, r.began = b, clock()
	b.current = r
	b.rounds.Add(1)
	return r
}

// setUp opens the barrier to reads (the listener listens) or closes it (it does not),
// turning away the reads that wait for the next round and forgetting the last round
// answered.
func (b *barrier) setUp(up bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.up = up
	if !up {
		b.fresh.Store(0)
		b.aloneUntil.Store(0)
		if r := b.next; r != nil {
			b.next = nil
			close(r.done)
		}
	}
}

// finish ends a round. An answered round is recorded before its reads are let go,
// so that the reads after them find it too; alone says that it leaves the instance
// alone, so that reads need no round for aloneLease from its beginning.
func (r *round) finish(heard, alone bool) {
	b := r.b
	b.mu.Lock()
	if heard && b.up && r.began > b.fresh.Load() {
		b.fresh.Store(r.began)
		if alone {
			b.aloneUntil.Store(r.began + int64(aloneLease))
		}
	}
	if b.current == r {
		b.current = nil
	}
	b.mu.Unlock()
	r.heard = heard
	close(r.done)
	b.refreshing.Store(false)
}
