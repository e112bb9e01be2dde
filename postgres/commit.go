package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/groupcommit"
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

// Checkout places an order; see storify.Store. It checks what it can alone, then
// queues the order to the committer and waits for its answer, all within the call's
// budget: if the budget or ctx ends while it waits in the queue, it is dropped and
// nothing is placed; once started it runs to the end, since the order may be placed
// already, and the batch it is in ends by the latest deadline of its checkouts.
func (s *Store) Checkout(ctx context.Context, no storify.NewOrder) (storify.Order, error) {
	co, err := newCheckout(no)
	if err != nil {
		return storify.Order{}, err
	}
	parent := ctx
	ctx, cancel := s.budget(ctx)
	defer cancel()
	co.deadline, _ = ctx.Deadline()
	o, err := s.commit.Do(ctx, co)
	return o, unreachable(parent, err)
}

// placeAll places cos in one transaction and returns their results in order. If a
// statement fails for a reason of its own (the server refused it, not a lost
// connection or a deadlock, which are retried), the whole transaction is rolled back
// with it, and each checkout is then placed in a transaction of its own, so that only
// the one at fault gets the error.
//
// The batch runs until the latest deadline of its checkouts, not under any caller's
// context: one caller giving up must not interrupt the connection under the others'
// orders. If the database cannot be reached, the batch is tried again until then.
// That is safe even after a COMMIT whose outcome is unknown, because every checkout
// carries its token: the next attempt first waits for the earlier transaction to end
// (the token's advisory lock, see lockTokens), then finds each order placed by it and
// returns that order instead of placing another. If the deadline comes first, every
// checkout gets storify.ErrUnavailable if no commit was sent, else
// storify.ErrUnconfirmed, and looking its token up later settles it.
func (s *Store) placeAll(cos []*checkout) []groupcommit.Result[storify.Order] {
	deadline := cos[0].deadline
	for _, co := range cos[1:] {
		if co.deadline.After(deadline) {
			deadline = co.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	results, err := s.placeTogether(ctx, cos)
	var unknown *unknownCommitError
	sent := errors.As(err, &unknown)
	for n := 0; err != nil && isUnreachable(err) && ctx.Err() == nil; n++ {
		d := min(backoffBase<<min(n, 10), backoffMax)
		t := time.NewTimer(d/2 + rand.N(d/2))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		s.metrics.DatabaseRetry()
		results, err = s.placeTogether(ctx, cos)
		sent = sent || errors.As(err, &unknown)
	}
	if err == nil {
		return results
	}
	if sent && isUnreachable(err) {
		err = storify.Unconfirmed(err)
	}
	if len(cos) > 1 && isRefusedStatement(err) {
		for i := range cos {
			r, err := s.placeTogether(ctx, cos[i:i+1])
			if err != nil {
				r[0] = groupcommit.Result[storify.Order]{Err: err}
			}
			results[i] = r[0]
		}
		return results
	}
	for i := range results {
		results[i] = groupcommit.Result[storify.Order]{Err: err}
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
func (s *Store) placeTogether(ctx context.Context, cos []*checkout) (results []groupcommit.Result[storify.Order], err error) {
	results = make([]groupcommit.Result[storify.Order], len(cos))
	defer func() {
		// The products changed, or may have if the commit failed, unless every
		// checkout was refused: the next read of the catalog must look again.
		// Done before the callers are answered, so that each reads its own order.
		var refused *storify.Error
		for _, r := range results {
			if err != nil || !errors.As(r.Err, &refused) {
				s.catalog.invalidate()
				return
			}
		}
	}()

	var accounts, products []int64
	tokens := make([]string, len(cos))
	for i, co := range cos {
		tokens[i] = co.Token
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
		b.Queue(lockTokens, tokenLockClass, tokens)
		if len(accounts) > 0 {
			b.Queue(lockAccounts, accounts)
		}
		b.Queue(lockProducts, products)
		for _, co := range cos {
			co.queue(b, s)
		}
	}
	read := func(_ pgx.Tx, br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: checkout: lock tokens: %w", err)
		}
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
				results[i] = groupcommit.Result[storify.Order]{Err: storify.Errorf(storify.ENOTFOUND, "no account #%d", co.AccountID)}
			default:
				results[i] = groupcommit.Result[storify.Order]{Value: order, Err: err}
			}
		}
		return nil
	}
	if err := s.transact(ctx, queue, read); err != nil {
		return results, err
	}
	return results, nil
}
