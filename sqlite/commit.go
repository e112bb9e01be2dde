package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/storify/storify"
)

// Group commit.
//
// A durable commit costs one fsync, and a disk does a few thousand of those a second
// at best; one transaction per checkout would cap the store at that many checkouts a
// second however many customers wait. So concurrent checkouts are queued to one
// committer goroutine, which runs everything queued (up to maxBatch) in one write
// transaction, each checkout in its own SAVEPOINT, and commits once. A checkout that
// fails rolls back to its savepoint only, and only its caller hears of it. Callers
// are answered after the COMMIT has returned, so an acknowledged order is on disk.

// maxBatch caps the checkouts committed together, so that one transaction's write
// lock is not held for long and the first customer in a big batch does not wait on
// the last.
const maxBatch = 128

// errClosed answers a checkout made after Close.
var errClosed = errors.New("sqlite: the store is closed")

// The states of a queued checkout. The committer and a caller whose context ends
// race for the first change from queued; whoever wins decides whether it runs.
const (
	queued    int32 = iota
	started         // the committer took it: it runs and its caller is answered
	abandoned       // its caller's context ended first: it never runs
)

// checkoutCall is one Checkout waiting for the committer.
type checkoutCall struct {
	ctx   context.Context
	co    *checkout
	state atomic.Int32
	done  chan checkoutResult // buffered, so that the committer never waits on a caller
}

type checkoutResult struct {
	order storify.Order
	err   error
}

// committer is the queue of checkouts and the state of the goroutine that commits them.
type committer struct {
	mu     sync.Mutex
	queue  []*checkoutCall
	closed bool          // no more checkouts are taken
	wake   chan struct{} // a token tells the committer the queue may have work
	exited chan struct{} // closed when the committer has answered its last checkout

	// batches counts the transactions committed, so that tests can tell that
	// checkouts were committed together.
	batches atomic.Int64
}

func newCommitter() *committer {
	return &committer{wake: make(chan struct{}, 1), exited: make(chan struct{})}
}

// enqueue adds a call to the queue, unless the store is closed.
func (c *committer) enqueue(call *checkoutCall) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	c.queue = append(c.queue, call)
	c.mu.Unlock()
	c.signal()
	return nil
}

// signal wakes the committer. The token is left in the channel if it is busy, so a
// call queued while it works is never missed.
func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take removes up to maxBatch calls from the head of the queue. It reports closed
// when the queue is empty and the store is closing: the committer may stop.
func (c *committer) take() (batch []*checkoutCall, closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.queue), maxBatch)
	batch = c.queue[:n:n]
	if n == len(c.queue) {
		c.queue = nil
	} else {
		c.queue = c.queue[n:]
	}
	return batch, n == 0 && c.closed
}

// close stops taking checkouts and waits until those queued are answered.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.signal()
	<-c.exited
}

// Checkout places an order; see storify.Store. It checks what it can alone, then
// queues the order to the committer and waits for its answer.
//
// If ctx ends while the checkout waits in the queue, it is dropped and ctx.Err() is
// returned; once the committer has started it, it runs to the end and its own result
// is returned, since the order may be placed already.
func (s *Store) Checkout(ctx context.Context, no storify.NewOrder) (storify.Order, error) {
	co, err := newCheckout(no)
	if err != nil {
		return storify.Order{}, err
	}
	if err := ctx.Err(); err != nil {
		return storify.Order{}, err
	}
	call := &checkoutCall{ctx: ctx, co: co, done: make(chan checkoutResult, 1)}
	if err := s.commit.enqueue(call); err != nil {
		return storify.Order{}, err
	}
	select {
	case r := <-call.done:
		return r.order, r.err
	case <-ctx.Done():
		if call.state.CompareAndSwap(queued, abandoned) {
			return storify.Order{}, ctx.Err()
		}
		r := <-call.done
		return r.order, r.err
	}
}

// commitLoop is the committer goroutine: it commits batches until the store is
// closed and the queue is empty.
func (s *Store) commitLoop() {
	defer close(s.commit.exited)
	for {
		batch, closed := s.commit.take()
		if closed {
			return
		}
		if len(batch) == 0 {
			<-s.commit.wake
			continue
		}
		s.commitBatch(batch)
	}
}

// commitBatch places the checkouts of batch in one transaction and answers each.
func (s *Store) commitBatch(batch []*checkoutCall) {
	// Claim the calls whose callers still wait; from here on they run to the end.
	calls := batch[:0]
	for _, call := range batch {
		if err := call.ctx.Err(); err != nil {
			if call.state.CompareAndSwap(queued, abandoned) {
				call.done <- checkoutResult{err: err}
			}
			continue
		}
		if call.state.CompareAndSwap(queued, started) {
			calls = append(calls, call)
		}
	}
	if len(calls) == 0 {
		return
	}
	results := s.placeAll(calls)
	for i, call := range calls {
		call.done <- results[i]
	}
}

// placeAll runs calls in one write transaction, each in a savepoint, and returns
// their results in order. Every result is final: if the transaction fails as a
// whole, every call gets the error, since none of its orders is on disk.
//
// The statements run under a context of their own, not the callers': a caller who
// gives up must not interrupt the connection under the others' orders.
func (s *Store) placeAll(calls []*checkoutCall) []checkoutResult {
	ctx := context.Background()
	results := make([]checkoutResult, len(calls))
	failAll := func(err error) []checkoutResult {
		for i := range results {
			results[i] = checkoutResult{err: err}
		}
		return results
	}

	// The products changed, or may have if the commit failed halfway: the next read
	// of the catalog must look again. Deferred first so that it runs last, after
	// the rollback if any, and before the callers are answered.
	defer s.catalog.invalidate()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return failAll(fmt.Errorf("sqlite: checkout: begin: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op

	st := s.stmts.in(ctx, tx)
	for i, call := range calls {
		if _, err := st.savepoint.ExecContext(ctx); err != nil {
			return failAll(fmt.Errorf("sqlite: checkout: savepoint: %w", err))
		}
		order, err := call.co.place(ctx, tx, st)
		if err != nil {
			// Some errors (a full disk, say) make SQLite roll back the whole
			// transaction; the savepoint is then gone and so are the orders placed
			// before this one.
			if _, rerr := st.rollbackTo.ExecContext(ctx); rerr != nil {
				return failAll(fmt.Errorf("sqlite: checkout: roll back to savepoint after %v: %w", err, rerr))
			}
		}
		if _, rerr := st.release.ExecContext(ctx); rerr != nil {
			return failAll(fmt.Errorf("sqlite: checkout: release savepoint: %w", rerr))
		}
		results[i] = checkoutResult{order: order, err: err}
	}
	if err := tx.Commit(); err != nil {
		return failAll(fmt.Errorf("sqlite: checkout: commit: %w", err))
	}
	s.commit.batches.Add(1)
	return results
}
