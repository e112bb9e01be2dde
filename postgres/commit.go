package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
	"github.com/storify/storify/internal/groupcommit"
)

// Group commit.
//
// A durable commit costs a WAL flush, and the customers of a busy store buy the same
// few products: a checkout holds its products' rows locked until its transaction
// ends, which a plain COMMIT does once the commit is on disk, so one transaction per
// checkout would sell a popular product at most once per flush however many
// customers wait. The NOTIFY of every checkout serializes commits too: PostgreSQL
// takes a lock on the whole cluster from a notifying transaction's commit until the
// transaction ends, so that notifications are queued in commit order.
//
// So, as on SQLite, concurrent checkouts are queued to one committer goroutine, which
// places everything queued (up to maxBatch) in one transaction and commits once: one
// flush and one notification for the lot. The transaction costs three round trips
// (order.go): BEGIN, the locks and the reads of what the checkouts need go to the
// server in one batch; the committer decides in memory, checkout by checkout, which
// are placed and which refused (sold out, unknown product, a changed cart), so a
// refused checkout changes nothing and cannot undo the others; one statement writes
// every order placed, its lines and the stock taken; then COMMIT. Deciding in memory
// and writing the lot in one statement cost the server a fraction of one statement
// per checkout, which each checked and wrote its own order (about 200 µs each here,
// most of the batch's time while it held the rows).
//
// Unless the instance is alone on its store, the COMMIT ends the transaction, its
// locks with it, as soon as its commit is written, and the same round trip then
// waits for the flush of a transaction written after it (unlockBeforeFlush, see
// commitThenFlushSQL); callers are answered after that, so an acknowledged order is
// on disk. The rows and the cluster's NOTIFY lock are thus held from the batch's
// locks to its commit, not to its flush: the next batch to lock them, another
// instance's selling the same product, writes its orders during this one's flush
// instead of after it, and the two may share a flush. (Else two instances selling
// one product take turns, one flush each, and place fewer checkouts a second than
// one.) What it costs: for the time of a flush, another instance may see the stock a
// batch took (its rows, its notice) before the batch's customers are told. A
// database that crashes then comes back without the batch, whose customers were
// never told it was placed; what others were shown meanwhile (a product sold out,
// say) was not so after all.
//
// The transaction first locks the accounts, then the products, of all its checkouts,
// each in ascending id, the order in which every transaction here locks them, so that
// the batches of several instances and the other writes cannot deadlock. Only then
// does it read them. A batch takes on the checkouts queued while it waited for its
// locks that need nothing more locked (TopUp, see placeTogether), at no cost in round
// trips, so that two instances selling one product commit as many checkouts at a
// time as one would.

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
	cos, results, later, err := s.placeTogether(ctx, cos, s.commit.TopUp)
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
		cos, results, later, err = s.placeTogether(ctx, cos, s.commit.TopUp)
		sent = sent || errors.As(err, &unknown)
	}
	if err == nil {
		// The checkouts the batch took on but could not place with the others go
		// to the next batch, so that these are answered now.
		for _, i := range later {
			results[i] = groupcommit.Result[storify.Order]{Again: true}
		}
		return results
	}
	if sent && isUnreachable(err) {
		err = storify.Unconfirmed(err)
	}
	if len(cos) > 1 && isRefusedStatement(err) {
		for i := range cos {
			results[i] = s.placeAlone(ctx, cos[i])
		}
		return results
	}
	for i := range results {
		results[i] = groupcommit.Result[storify.Order]{Err: err}
	}
	return results
}

// placeAlone places co in a transaction of its own.
func (s *Store) placeAlone(ctx context.Context, co *checkout) groupcommit.Result[storify.Order] {
	_, r, _, err := s.placeTogether(ctx, []*checkout{co}, nil)
	if err != nil {
		return groupcommit.Result[storify.Order]{Err: err}
	}
	return r[0]
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
//
// If topUp is not nil, the batch takes on the checkouts queued meanwhile (TopUp)
// once it holds its locks, those that need nothing more locked than it holds: when
// the batch had to wait for another instance's to let go of a product, the customers
// who queued meanwhile share its commit instead of waiting for the next. (Else two
// instances whose customers buy the same product alternate, each commit half the
// size of one instance's, and place fewer checkouts a second than one instance.)
// They are returned after cos in all. Taking them on costs no round trip: the
// statement that writes the orders first takes their tokens' locks, if no other
// transaction holds them, and writes nothing unless it took them all. A checkout
// whose token's lock is held elsewhere (an earlier attempt of the same checkout,
// still in flight) cannot be placed with the others, since waiting for that lock
// while holding the rows could deadlock: its index is in later, the statement is
// sent again without it, and it goes back to the queue for the next batch, which
// waits for the lock before it locks anything else. Their orders placed already are
// not looked for: a checkout that was queued is almost always new, and one whose
// token was used before (sent again, once the first attempt had ended) breaks the
// orders' unique token, so that the statement fails and each checkout of the batch
// is placed alone (placeAll), where its earlier order is found.
func (s *Store) placeTogether(ctx context.Context, cos []*checkout, topUp func(fits func(*checkout) bool) []*checkout) (all []*checkout, results []groupcommit.Result[storify.Order], later []int, err error) {
	all = cos
	if err := s.joinedForWrites(ctx); err != nil {
		return all, make([]groupcommit.Result[storify.Order], len(all)), nil, err
	}
	var taken []catalog.Stock // the stock the committed batch left of the products it took from
	defer func() {
		// The products' stock changed, or may have if the commit failed, unless
		// every checkout was refused: the next read of the catalog takes the
		// stock the batch left if it committed, and reads the catalog again if
		// it may have. Done before the callers are answered, so that each reads
		// its own order.
		var refused *storify.Error
		for _, r := range results {
			if err != nil {
				s.catalog.invalidate()
				return
			}
			if !errors.As(r.Err, &refused) {
				s.catalog.cache.Stocked(taken...)
				return
			}
		}
	}()

	// What the batch locks, found again on every attempt: checkouts it took on in an
	// attempt that failed are the batch's own on the next.
	var accounts []int64
	queue := func(b *pgx.Batch) {
		var products []int64
		tokens := make([]string, len(all))
		accounts = accounts[:0]
		for i, co := range all {
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

		s.presence(b)
		b.Queue(lockTokens, tokenLockClass, tokens)
		if len(accounts) > 0 {
			b.Queue(lockAccounts, accounts)
		}
		b.Queue(lockProducts, products)
		b.Queue(priorOrders, tokens)
		if len(accounts) > 0 {
			b.Queue(savedCarts, accounts)
		}
	}
	read := func(tx pgx.Tx, br pgx.BatchResults) error {
		later, results = nil, nil
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: checkout: presence: %w", err)
		}
		found, err := readBatch(br, len(accounts) > 0)
		if err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("postgres: checkout: %w", err)
		}
		first := len(all) // the first checkout taken on, if any
		if topUp != nil {
			all = found.topUp(all, topUp)
		}
		for {
			var extra []string // the tokens of the checkouts taken on, to lock
			for i := first; i < len(all); i++ {
				if !slices.Contains(later, i) {
					extra = append(extra, all[i].Token)
				}
			}
			st := found
			if len(extra) > 0 {
				st = found.clone() // decide takes the stock from what it is given
			}
			results = make([]groupcommit.Result[storify.Order], len(all))
			w := st.decide(all, results, later)
			if len(w.tokens) == 0 {
				return nil
			}
			w.args = append(w.args, s.channel, s.stockPayload(w.taken), tokenLockClass, extra)
			busy, err := w.write(ctx, tx, results)
			if err != nil {
				return err
			}
			if len(busy) == 0 {
				taken = w.taken
				return nil
			}
			// Nothing was written: place the batch again without the checkouts
			// whose token another transaction holds.
			for i := first; i < len(all); i++ {
				if busy[all[i].Token] && !slices.Contains(later, i) {
					later = append(later, i)
				}
			}
		}
	}
	// An instance alone on its store has no one to let go of the rows for (its own
	// next batch waits for this one's answer anyway), so it commits plainly. That
	// spares the flush's own transaction, and a second flush in a row when
	// PostgreSQL's WAL writer, woken by an asynchronous commit, flushes part of the
	// WAL just before the flush that is waited for.
	mode := unlockBeforeFlush
	if s.lone.isAlone.Load() {
		mode = flushedCommit
	}
	err = s.transactAs(ctx, mode, queue, read)
	if results == nil { // the transaction failed before deciding
		results = make([]groupcommit.Result[storify.Order], len(all))
	}
	return all, results, later, err
}

// write runs placeOrders with w's arguments and sets the id and time of each order
// placed into results. If the lock of a token of a checkout taken on was held by
// another transaction, it writes nothing and returns those tokens.
func (w placing) write(ctx context.Context, tx pgx.Tx, results []groupcommit.Result[storify.Order]) (busy map[string]bool, err error) {
	rows, _ := tx.Query(ctx, placeOrders, w.args...)
	var token string
	var id, notified *int64
	var placed *time.Time
	_, err = pgx.ForEachRow(rows, []any{&token, &id, &placed, &notified}, func() error {
		if id == nil {
			if busy == nil {
				busy = map[string]bool{}
			}
			busy[token] = true
			return nil
		}
		for _, i := range w.placed[token] {
			results[i].Value.ID, results[i].Value.Placed = *id, utc(*placed)
		}
		return nil
	})
	if err != nil {
		return nil, &statementError{fmt.Errorf("postgres: checkout: %w", err)}
	}
	return busy, nil
}

// topUp takes on the checkouts queued since the batch began whose products and
// account the batch has locked (see placeTogether), and returns cos with them.
func (st *batchState) topUp(cos []*checkout, topUp func(fits func(*checkout) bool) []*checkout) []*checkout {
	return append(cos, topUp(func(co *checkout) bool {
		if co.AccountID != 0 && !st.accounts[co.AccountID] {
			return false
		}
		for _, id := range co.ids {
			if st.products[id] == nil {
				return false
			}
		}
		return true
	})...)
}

// batchState is what a batch's transaction found, once its rows are locked: the
// products (their stock less what the batch's earlier checkouts took), the accounts
// that exist, their saved carts, and the orders placed already with its tokens.
type batchState struct {
	products map[int64]*foundProduct
	accounts map[int64]bool
	carts    map[int64]map[int64]int // qty by product, by account
	priors   map[string]*priorOrder  // by token
}

// clone returns a copy of st that decide can change without changing st.
func (st *batchState) clone() *batchState {
	c := *st
	c.products = make(map[int64]*foundProduct, len(st.products))
	for id, p := range st.products {
		c.products[id] = new(*p)
	}
	c.carts = maps.Clone(st.carts) // decide deletes carts, and changes none
	return &c
}

// readBatch reads the results of the statements that placeTogether queues with
// BEGIN. withAccounts says whether the account statements were queued.
func readBatch(br pgx.BatchResults, withAccounts bool) (*batchState, error) {
	st := &batchState{products: map[int64]*foundProduct{}, accounts: map[int64]bool{}, carts: map[int64]map[int64]int{}, priors: map[string]*priorOrder{}}
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("postgres: checkout: lock tokens: %w", err)
	}
	if withAccounts {
		rows, _ := br.Query()
		var id int64
		if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			st.accounts[id] = true
			return nil
		}); err != nil {
			return nil, fmt.Errorf("postgres: checkout: lock accounts: %w", err)
		}
	}
	rows, _ := br.Query()
	var id int64
	var p foundProduct
	if _, err := pgx.ForEachRow(rows, []any{&id, &p.name, &p.price, &p.stock, &p.discontinued, &p.version}, func() error {
		st.products[id] = &foundProduct{name: p.name, price: p.price, stock: p.stock, discontinued: p.discontinued, version: p.version}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: checkout: lock products: %w", err)
	}
	if err := st.readPriors(br); err != nil {
		return nil, err
	}
	if withAccounts {
		rows, _ := br.Query()
		var account, product int64
		var qty int
		if _, err := pgx.ForEachRow(rows, []any{&account, &product, &qty}, func() error {
			if st.carts[account] == nil {
				st.carts[account] = map[int64]int{}
			}
			st.carts[account][product] = qty
			return nil
		}); err != nil {
			return nil, fmt.Errorf("postgres: checkout: saved carts: %w", err)
		}
	}
	return st, nil
}

// readPriors reads the result of priorOrders from br.
func (st *batchState) readPriors(br pgx.BatchResults) error {
	rows, _ := br.Query()
	var token string
	var o priorOrder
	var product int64
	var l priorLine
	if _, err := pgx.ForEachRow(rows, []any{&token, &o.id, &o.placed, &o.status, &product, &l.name, &l.price}, func() error {
		prior := st.priors[token]
		if prior == nil {
			prior = &priorOrder{id: o.id, placed: o.placed, status: o.status, lines: map[int64]priorLine{}}
			st.priors[token] = prior
		}
		prior.lines[product] = l
		return nil
	}); err != nil {
		return fmt.Errorf("postgres: checkout: orders placed already: %w", err)
	}
	return nil
}

// placing is what a batch writes (placeOrders' arguments but the last four), and
// which of its checkouts each order answers, by token: more than one if a checkout
// was sent again while the first was still queued.
type placing struct {
	args   []any
	tokens []string
	placed map[string][]int
	taken  []catalog.Stock // the stock the batch leaves of the products it takes from, in ascending ID
}

// decide places cos but those in later, in order, on the batch's state: each
// checkout is answered with
// the order placed already with its token, or is refused (into results, with the
// reason), or takes its stock from the state and is added to the orders to write,
// its result then waiting for its id and time.
func (st *batchState) decide(cos []*checkout, results []groupcommit.Result[storify.Order], later []int) placing {
	var (
		w                                  = placing{placed: map[string][]int{}}
		customers                          []string
		accounts                           []*int64
		totals                             []int64
		lineTokens, names                  []string
		lineNos, qtys                      []int32
		lineProducts, prices, emptiedCarts []int64
		taken                              = map[int64]int64{}
	)
	for i, co := range cos {
		if slices.Contains(later, i) {
			continue
		}
		order := storify.Order{Customer: co.Customer, AccountID: co.AccountID, Lines: make([]storify.OrderLine, len(co.Lines)), Status: storify.StatusPlaced}
		if prior := st.priors[co.Token]; prior != nil {
			order.ID, order.Placed, order.Status = prior.id, utc(prior.placed), prior.status
			for j, it := range co.Lines {
				l := prior.lines[it.ProductID]
				order.Lines[j] = storify.OrderLine{ProductID: it.ProductID, Name: l.name, Qty: it.Qty, UnitPrice: l.price}
				order.Total += order.Lines[j].Subtotal()
			}
			results[i] = groupcommit.Result[storify.Order]{Value: order}
			continue
		}
		if at, ok := w.placed[co.Token]; ok { // the same checkout, queued twice
			w.placed[co.Token] = append(at, i)
			results[i] = results[at[0]]
			continue
		}
		if co.AccountID != 0 && !st.accounts[co.AccountID] {
			results[i].Err = storify.Errorf(storify.ENOTFOUND, "no account #%d", co.AccountID)
			continue
		}
		if co.AccountID != 0 && !co.cartMatches(st.carts[co.AccountID]) {
			results[i].Err = storify.ErrCartChanged // an account buys its saved cart, as it is now
			continue
		}
		if err := co.whyNot(st.products); err != nil {
			results[i].Err = err
			continue
		}
		for j, it := range co.Lines {
			p := st.products[it.ProductID]
			p.stock -= it.Qty
			taken[it.ProductID] += int64(it.Qty)
			order.Lines[j] = storify.OrderLine{ProductID: it.ProductID, Name: p.name, Qty: it.Qty, UnitPrice: p.price}
			order.Total += order.Lines[j].Subtotal()
			lineTokens, lineNos, lineProducts = append(lineTokens, co.Token), append(lineNos, int32(j+1)), append(lineProducts, it.ProductID)
			names, qtys, prices = append(names, p.name), append(qtys, int32(it.Qty)), append(prices, int64(p.price))
		}
		var account *int64 // NULL for a guest
		if co.AccountID != 0 {
			account = &co.AccountID
			emptiedCarts = append(emptiedCarts, co.AccountID)
			delete(st.carts, co.AccountID) // a second checkout of the account finds it empty
		}
		customers, accounts, totals = append(customers, co.Customer), append(accounts, account), append(totals, int64(order.Total))
		w.tokens = append(w.tokens, co.Token)
		w.placed[co.Token] = []int{i}
		results[i] = groupcommit.Result[storify.Order]{Value: order}
	}
	takenIDs := make([]int64, 0, len(taken))
	for id := range taken {
		takenIDs = append(takenIDs, id)
	}
	slices.Sort(takenIDs)
	takenQtys := make([]int64, len(takenIDs))
	for i, id := range takenIDs {
		takenQtys[i] = taken[id]
	}
	w.args = []any{customers, accounts, totals, w.tokens, lineTokens, lineNos, lineProducts, names, qtys, prices, takenIDs, takenQtys, emptiedCarts}
	w.taken = make([]catalog.Stock, len(takenIDs))
	for i, id := range takenIDs {
		p := st.products[id]
		w.taken[i] = catalog.Stock{ID: id, Units: p.stock, Version: p.version + 1}
	}
	return w
}
