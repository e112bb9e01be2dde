package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/storify/storify"
)

// Group commit.
//
// A durable commit costs a WAL flush, and the customers of a busy store buy the same
// few products: a checkout holds its products' rows locked until its commit is on
// disk, so one transaction per checkout would sell a popular product at most once per
// flush however many customers wait. The NOTIFY of every checkout serializes commits
// too: PostgreSQL takes a database-wide lock from a notifying transaction's commit
// until the commit is flushed, so that notifications are queued in commit order.
//
// So, as on SQLite, concurrent checkouts are queued to one committer goroutine, which
// places everything queued (up to maxBatch) in one transaction and commits once: one
// flush and one notification for the lot. The transaction costs two round trips:
// BEGIN, the locks and one placeOrder statement per checkout go to the server in one
// batch, then COMMIT. A refused checkout (sold out, unknown product) changes nothing
// and is no error to the transaction, so it cannot undo the others. Callers are
// answered after COMMIT has returned, so an acknowledged order is on disk.
//
// The transaction first locks the accounts, then the products, of all its checkouts,
// each in ascending id, the order in which every transaction here locks them, so that
// the batches of several instances and the other writes cannot deadlock. Only then
// does it read them (see placeOrder).

// maxBatch caps the checkouts placed together, so that one transaction does not hold
// its rows locked for long and the first customer in a big batch does not wait long
// on the last.
const maxBatch = 64

// checkoutTimeout bounds one batch's transaction. The callers' contexts cannot: one
// caller giving up must not interrupt the connection under the others' orders.
const checkoutTimeout = 30 * time.Second

// errClosed answers a checkout made after Close.
var errClosed = errors.New("postgres: the store is closed")

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

// commitBatch places the checkouts of batch and answers each.
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
	cos := make([]*checkout, len(calls))
	for i, call := range calls {
		cos[i] = call.co
	}
	results := s.placeAll(cos)
	for i, call := range calls {
		call.done <- results[i]
	}
}

// placeAll places cos in one transaction and returns their results in order. If a
// statement fails for a reason of its own (the server refused it, not a lost
// connection or a deadlock, which are retried), the whole transaction is rolled back
// with it, and each checkout is then placed in a transaction of its own, so that only
// the one at fault gets the error. If the commit itself fails, every checkout gets
// the error, since none of the orders is known to be on disk.
func (s *Store) placeAll(cos []*checkout) []checkoutResult {
	ctx, cancel := context.WithTimeout(context.Background(), checkoutTimeout)
	defer cancel()
	results, err := s.placeTogether(ctx, cos)
	if err == nil {
		return results
	}
	if len(cos) > 1 && isRefusedStatement(err) {
		for i := range cos {
			r, err := s.placeTogether(ctx, cos[i:i+1])
			if err != nil {
				r[0] = checkoutResult{err: err}
			}
			results[i] = r[0]
		}
		return results
	}
	for i := range results {
		results[i] = checkoutResult{err: err}
	}
	return results
}

// statementError is the failure of one checkout's placeOrder statement.
type statementError struct{ err error }

func (e *statementError) Error() string { return e.err.Error() }
func (e *statementError) Unwrap() error { return e.err }

// isRefusedStatement reports whether err is a placeOrder statement that the server
// refused for a reason of its own (a constraint, a bug, a full disk), which may be
// that checkout's alone: not a deadlock or serialization failure, which write retries,
// nor the end of the connection (a FATAL error), which every checkout shares.
func isRefusedStatement(err error) bool {
	var stmt *statementError
	var pgErr *pgconn.PgError
	return errors.As(err, &stmt) && errors.As(err, &pgErr) && pgErr.Severity == "ERROR" && !isTransient(err)
}

// placeTogether places cos in one transaction (see the comment at the top of the
// file) and returns their results in order; err is the transaction's failure, which
// leaves the results meaningless.
func (s *Store) placeTogether(ctx context.Context, cos []*checkout) (results []checkoutResult, err error) {
	results = make([]checkoutResult, len(cos))
	defer func() {
		// The products changed, or may have if the commit failed, unless every
		// checkout was refused: the next read of the catalog must look again.
		// Done before the callers are answered, so that each reads its own order.
		var refused *storify.Error
		for _, r := range results {
			if err != nil || !errors.As(r.err, &refused) {
				s.catalog.invalidate()
				return
			}
		}
	}()

	var accounts, products []int64
	for _, co := range cos {
		if co.AccountID != 0 {
			accounts = append(accounts, co.AccountID)
		}
		products = append(products, co.ids...)
	}
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)
	slices.Sort(products)
	products = slices.Compact(products)

	queue := func(b *pgx.Batch) {
		if len(accounts) > 0 {
			b.Queue(lockAccounts, accounts)
		}
		b.Queue(lockProducts, products)
		for _, co := range cos {
			co.queue(b, s)
		}
	}
	read := func(_ pgx.Tx, br pgx.BatchResults) error {
		exists := make(map[int64]bool, len(accounts))
		if len(accounts) > 0 {
			rows, _ := br.Query()
			var id int64
			if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
				exists[id] = true
				return nil
			}); err != nil {
				return fmt.Errorf("postgres: checkout: lock accounts: %w", err)
			}
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: checkout: lock products: %w", err)
		}
		var refused *storify.Error
		for i, co := range cos {
			order, err := co.read(br)
			switch {
			case err != nil && !errors.As(err, &refused) && !errors.Is(err, errUnexplained):
				return &statementError{err} // the transaction is aborted
			case co.AccountID != 0 && !exists[co.AccountID]:
				// placeOrder found no account either and placed nothing.
				results[i] = checkoutResult{err: storify.Errorf(storify.ENOTFOUND, "no account #%d", co.AccountID)}
			default:
				results[i] = checkoutResult{order: order, err: err}
			}
		}
		return nil
	}
	if err := s.transact(ctx, queue, read); err != nil {
		return results, err
	}
	s.commit.batches.Add(1)
	return results, nil
}
