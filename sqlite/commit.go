package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/groupcommit"
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

// Checkout places an order; see storify.Store. It checks what it can alone, then
// queues the order to the committer and waits for its answer.
//
// If ctx ends while the checkout waits in the queue, it is dropped and ctx.Err() is
// returned; once the committer has started it, it runs to the end and its own result
// is returned, since the order may be placed already.
func (s *Store) Checkout(ctx context.Context, no storify.NewOrder) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	co, err := newCheckout(no)
	if err != nil {
		return storify.Order{}, err
	}
	return s.commit.Do(ctx, co)
}

// placeAll runs calls in one write transaction, each in a savepoint, and returns
// their results in order. Every result is final: if the transaction fails as a
// whole, every call gets the error, since none of its orders is on disk.
//
// The statements run under a context of their own, not the callers': a caller who
// gives up must not interrupt the connection under the others' orders. Nor do they
// get a deadline: on a local file only another process's lock can hold them up, and
// busy_timeout (the budget) bounds that wait; a cancellable context would cost every
// statement a watcher in the driver, on the one goroutine all checkouts queue for.
// The callers' budgets bound their wait in the queue.
//
// If COMMIT itself fails, SQLite may or may not have committed (an I/O error can
// come after the commit record reached the log): the checkouts' tokens are looked up
// on the writer connection, which no other transaction can use meanwhile, and the
// orders found are the answer; only if that fails too do the callers get
// storify.ErrUnconfirmed.
func (s *Store) placeAll(cos []*checkout) []groupcommit.Result[storify.Order] {
	ctx := context.Background()
	results := make([]groupcommit.Result[storify.Order], len(cos))
	failAll := func(err error) []groupcommit.Result[storify.Order] {
		for i := range results {
			results[i] = groupcommit.Result[storify.Order]{Err: err}
		}
		return results
	}

	// The stock of the products ordered changed, or may have if the commit failed
	// halfway: the next read of the catalog reads their rows again. Deferred first
	// so that it runs last, after the rollback if any, and before the callers are
	// answered.
	defer s.catalog.Touched(orderedProducts(cos)...)
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return failAll(fmt.Errorf("sqlite: checkout: begin: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op

	st := s.stmts.in(ctx, tx)
	for i, co := range cos {
		if _, err := st.savepoint.ExecContext(ctx); err != nil {
			return failAll(fmt.Errorf("sqlite: checkout: savepoint: %w", err))
		}
		order, err := co.place(ctx, tx, st)
		if errors.Is(err, errPrior) {
			// The token placed an order already: this checkout was sent again. Its
			// stock goes back (below), and its caller gets that order.
			if _, rerr := st.rollbackTo.ExecContext(ctx); rerr != nil {
				return failAll(fmt.Errorf("sqlite: checkout: roll back to savepoint: %w", rerr))
			}
			order, err = priorOrder(ctx, tx, st, co.Token)
		}
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
		results[i] = groupcommit.Result[storify.Order]{Value: order, Err: err}
	}
	if err := tx.Commit(); err != nil {
		return s.resolve(cos, results, fmt.Errorf("sqlite: checkout: commit: %w", err))
	}
	return results
}

// resolve answers the checkouts of a batch whose COMMIT failed with err: each one
// whose token is found placed its order (which results holds); the others get err,
// and all get storify.ErrUnconfirmed if the tokens cannot be looked up.
func (s *Store) resolve(cos []*checkout, results []groupcommit.Result[storify.Order], err error) []groupcommit.Result[storify.Order] {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	placed := make(map[string]bool, len(cos))
	tokens := make([]string, len(cos))
	for i, co := range cos {
		tokens[i] = co.Token
	}
	// A COMMIT that failed may leave its transaction open (SQLite then wants it
	// rolled back); a lookup inside it would see its orders uncommitted. On a
	// transaction that ended, ROLLBACK fails harmlessly.
	_, _ = s.writer.ExecContext(ctx, `ROLLBACK`)
	tokenList, _ := json.Marshal(tokens)
	rows, qerr := s.writer.QueryContext(ctx, `SELECT token FROM orders WHERE token IN (SELECT value FROM json_each(?))`, string(tokenList))
	if qerr == nil {
		for rows.Next() {
			var t string
			if qerr = rows.Scan(&t); qerr != nil {
				break
			}
			placed[t] = true
		}
		rows.Close()
		if qerr == nil {
			qerr = rows.Err()
		}
	}
	for i, co := range cos {
		switch {
		case qerr != nil:
			results[i] = groupcommit.Result[storify.Order]{Err: storify.Unconfirmed(fmt.Errorf("%w (and looking the orders up: %w)", err, qerr))}
		case placed[co.Token] && results[i].Err == nil:
			// committed after all
		default:
			results[i] = groupcommit.Result[storify.Order]{Err: err}
		}
	}
	return results
}

// orderedProducts lists the products the checkouts order, each once.
func orderedProducts(cos []*checkout) []int64 {
	var ids []int64
	for _, co := range cos {
		for _, l := range co.Lines {
			ids = append(ids, l.ProductID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
