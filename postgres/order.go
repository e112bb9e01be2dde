package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// checkout is a checked NewOrder, ready to be placed.
type checkout struct {
	storify.CheckedOrder
	ids      []int64   // product id of each line, in cart order
	deadline time.Time // when its caller's budget ends
}

// newCheckout checks what can be checked without the database, so that a bad order
// never takes a connection.
func newCheckout(no storify.NewOrder) (*checkout, error) {
	checked, err := no.Check()
	if err != nil {
		return nil, err
	}
	co := &checkout{CheckedOrder: checked, ids: make([]int64, len(checked.Lines))}
	for i, l := range checked.Lines {
		co.ids[i] = l.ProductID
	}
	return co, nil
}

// A batch of checkouts is placed in three round trips (see placeTogether): the
// locks and reads below go to the server with BEGIN; the committer then decides in
// memory, checkout by checkout in queue order, which are placed, taking their stock
// from what it read; placeOrders writes them all in one statement; then COMMIT. The
// rows read are locked by this transaction (products and accounts) or read after a
// lock that guards them (saved carts after their accounts', orders by token after the
// tokens' advisory locks), so nobody can change them before the commit, and what the
// committer decided from them holds.

// tokenLockClass is the first key of a checkout token's advisory lock ("TOKN"); the
// second is a hash of the token. (Another token of the same hash only makes one
// checkout wait for another.)
const tokenLockClass int32 = 0x544f4b4e

// lockTokens takes the advisory lock of each token of a batch ($2), in ascending key
// so that batches cannot deadlock on them, held until the transaction ends. A lookup
// of a token (Orders with OrderFilter.Token) and a later attempt with the same token
// wait for it, so they never miss an order whose commit is in flight.
const lockTokens = `SELECT pg_advisory_xact_lock($1, k)
	FROM (SELECT DISTINCT hashtext(t) AS k FROM unnest($2::text[]) AS t ORDER BY k) AS keys`

// lockProducts locks products in ascending id, as every transaction here does, and
// returns them: FOR NO KEY UPDATE under ORDER BY locks the rows one by one in that
// order, so two transactions cannot each hold a row the other waits for, and under
// READ COMMITTED a row that another transaction changed while this one waited for
// its lock is returned as that one left it, the newest version, which is the one
// locked.
const lockProducts = `SELECT id, name, price, stock, discontinued, stock_version FROM products
	WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`

// lockAccounts locks accounts in ascending id and returns those that exist; see
// lockAccount.
const lockAccounts = `SELECT id FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`

// priorOrders finds the orders placed already with the batch's tokens, by an earlier
// attempt whose COMMIT went through unbeknown to us, or by the same checkout sent
// again: each line's product, name and unit price, as they were placed. The tokens'
// advisory locks, taken by an earlier statement, make sure that it sees such an order
// if it exists, committed.
//
// Each token is looked up on its own, in a subquery that the planner cannot turn into
// a scan of the table (OFFSET 0), and so are each order's lines: the plan of a
// prepared statement is made once, on the connection's first few runs, and the one
// made for "token = ANY($1)" while the orders were few (a new store) read every order,
// which cost a batch 4 ms once there were 17,000 (the checkout step of the compare
// script, a few seconds in).
const priorOrders = `SELECT o.token, o.id, o.placed_at, o.status, l.product_id, l.name, l.unit_price
	FROM unnest($1::text[]) AS t (token)
	CROSS JOIN LATERAL (SELECT id, token, placed_at, status FROM orders WHERE token = t.token OFFSET 0) AS o
	CROSS JOIN LATERAL (SELECT product_id, name, unit_price FROM order_lines WHERE order_id = o.id OFFSET 0) AS l`

// savedCarts reads the saved carts of the batch's accounts, once they are locked:
// an account buys its saved cart, exactly as it is. Each account's is looked up on
// its own, as priorOrders does.
const savedCarts = `SELECT a.id, c.product_id, c.qty FROM unnest($1::bigint[]) AS a (id)
	CROSS JOIN LATERAL (SELECT product_id, qty FROM saved_cart_items WHERE account_id = a.id OFFSET 0) AS c`

// placeOrders writes the orders a batch places, all in one statement: the orders
// (one row of $1-$4 each), their lines ($5-$10, each naming its order by token), the
// stock taken ($11-$12, one row per product, the units of all the batch's orders),
// the saved carts emptied ($13), and the NOTIFY ($14-$15). It returns each order's
// token, id and time.
//
// First it takes the advisory locks (class $16) of the tokens of the checkouts the
// batch took on ($17), those that no other transaction holds, without waiting; if it
// cannot take them all, it writes nothing and returns each token it could not lock,
// with no id. Data-modifying CTEs always run to completion, whether read or not, so
// each write is made on the condition that the locks were taken (an InitPlan, run
// before the write's first row); a SELECT CTE runs only as far as it is read, and
// once however often it is read, which is why the NOTIFY is counted. The placed time
// is the database's clock, which every instance shares. The stock CHECK (stock >= 0)
// is the last line of defence: were the committer's arithmetic wrong, the batch
// would fail rather than oversell.
const placeOrders = `WITH k AS (
		SELECT t, pg_try_advisory_xact_lock($16, hashtext(t)) AS locked FROM unnest($17::text[]) AS t
	), ok AS (
		SELECT coalesce(bool_and(locked), true) AS ok FROM k
	), o AS (
		INSERT INTO orders (customer, account_id, total, status, placed_at, token)
		SELECT customer, account_id, total, 'placed', clock_timestamp(), token
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS x (customer, account_id, total, token)
		WHERE (SELECT ok FROM ok)
		RETURNING token, id, placed_at
	), l AS (
		INSERT INTO order_lines (order_id, line, product_id, name, qty, unit_price)
		SELECT o.id, x.line, x.product_id, x.name, x.qty, x.unit_price
		FROM unnest($5::text[], $6::integer[], $7::bigint[], $8::text[], $9::integer[], $10::bigint[])
			AS x (token, line, product_id, name, qty, unit_price)
		JOIN o ON o.token = x.token
	), taken AS (
		UPDATE products p SET stock = p.stock - x.qty, stock_version = p.stock_version + 1
		FROM unnest($11::bigint[], $12::bigint[]) AS x (id, qty)
		WHERE p.id = x.id AND (SELECT ok FROM ok)
	), c AS (
		DELETE FROM saved_cart_items WHERE account_id = ANY($13::bigint[]) AND (SELECT ok FROM ok)
	), n AS (
		SELECT pg_notify($14, $15) WHERE (SELECT ok FROM ok)
	)
	SELECT o.token, o.id, o.placed_at, (SELECT count(*) FROM n) FROM o
	UNION ALL
	SELECT t, NULL, NULL, NULL FROM k WHERE NOT locked`

// foundProduct is a product as a batch found it, less the stock its earlier
// checkouts took.
type foundProduct struct {
	name         string
	price        storify.Cents
	stock        int
	discontinued bool
	version      int64 // stock_version, as locked
}

// priorOrder is an order placed already with a checkout's token.
type priorOrder struct {
	id     int64
	placed time.Time
	status storify.OrderStatus
	lines  map[int64]priorLine // by product
}

// priorLine is a line of a priorOrder as it was placed.
type priorLine struct {
	name  string
	price storify.Cents
}

// whyNot explains why the checkout cannot be placed, from the products as the batch
// has them: the first line in ascending product id that cannot be sold, or nil if
// every line can.
func (co *checkout) whyNot(found map[int64]*foundProduct) error {
	for _, i := range co.ByID {
		it := co.Lines[i]
		p, ok := found[it.ProductID]
		switch {
		case !ok:
			return storify.ErrNoProduct(it.ProductID)
		case p.discontinued:
			return storify.Errorf(storify.ECONFLICT, "%s is no longer sold", p.name)
		case p.stock == 0:
			return storify.Errorf(storify.ECONFLICT, "%s is sold out", p.name)
		case p.stock < it.Qty:
			return storify.Errorf(storify.ECONFLICT, "only %d %s left", p.stock, p.name)
		}
	}
	return nil
}

// cartMatches reports whether an account's saved cart (qty by product) holds
// exactly the checkout's lines.
func (co *checkout) cartMatches(cart map[int64]int) bool {
	if len(cart) != len(co.Lines) {
		return false
	}
	for _, it := range co.Lines {
		if cart[it.ProductID] != it.Qty {
			return false
		}
	}
	return true
}

// Orders lists orders newest first; see storify.Store.
func (s *Store) Orders(ctx context.Context, filter storify.OrderFilter) (_ []storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// The WHERE clause holds only the filters given, rather than "$1 IS NULL OR …"
	// for each, so that the planner can use the index that fits.
	if filter.IDs != nil {
		where = append(where, `id = ANY(`+arg(filter.IDs)+`::bigint[])`)
	}
	if filter.AccountID != 0 {
		where = append(where, `account_id = `+arg(filter.AccountID))
	}
	if filter.Status != "" {
		where = append(where, `status = `+arg(string(filter.Status)))
	}
	if filter.Token != "" {
		where = append(where, `token = `+arg(filter.Token))
	}
	if !filter.Placed.Since.IsZero() {
		where = append(where, `placed_at >= `+arg(filter.Placed.Since))
	}
	if !filter.Placed.Before.IsZero() {
		where = append(where, `placed_at < `+arg(filter.Placed.Before))
	}
	limit := ""
	if filter.Limit > 0 {
		limit = `LIMIT ` + arg(filter.Limit)
	}
	var os []storify.Order
	list := func(c querier) error {
		var err error
		if os, err = queryOrders(ctx, c, strings.Join(where, ` AND `), limit, args...); err != nil {
			return fmt.Errorf("postgres: list orders: %w", err)
		}
		return nil
	}
	if filter.Token == "" {
		return os, s.read(ctx, list)
	}
	// A checkout with this token may be committing as we look (its client lost
	// the connection during COMMIT, and its backend has not finished): wait for
	// its transaction to end, holding the token's lock shared, and only then read,
	// in a statement whose snapshot is taken after the wait.
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, tokenLockClass, filter.Token); err != nil {
			return fmt.Errorf("postgres: wait for checkout %q: %w", filter.Token, err)
		}
		return list(tx)
	})
	return os, err
}

// Order returns one order with its lines; see storify.Store.
func (s *Store) Order(ctx context.Context, id int64) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var o storify.Order
	err = s.read(ctx, func(c querier) error {
		var err error
		o, err = order(ctx, c, id)
		return err
	})
	return o, err
}

func order(ctx context.Context, q querier, id int64) (storify.Order, error) {
	os, err := queryOrders(ctx, q, `id = $1`, ``, id)
	if err != nil {
		return storify.Order{}, fmt.Errorf("postgres: order %d: %w", id, err)
	}
	if len(os) == 0 {
		return storify.Order{}, noOrder(id)
	}
	return os[0], nil
}

// queryOrders returns the orders matching where and limit (with args), newest first,
// with their lines. Orders and lines come in one statement, so they are one
// consistent snapshot without a read transaction.
func queryOrders(ctx context.Context, q querier, where, limit string, args ...any) ([]storify.Order, error) {
	if where != "" {
		where = `WHERE ` + where
	}
	rows, err := q.Query(ctx, `
		WITH o AS (
			SELECT id, customer, account_id, total, status, placed_at FROM orders `+where+`
			ORDER BY id DESC `+limit+`
		)
		SELECT o.id, o.customer, coalesce(o.account_id, 0), o.total, o.status, o.placed_at,
			l.product_id, l.name, l.qty, l.unit_price
		FROM o JOIN order_lines l ON l.order_id = o.id
		ORDER BY o.id DESC, l.line`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var os []storify.Order
	for rows.Next() {
		var o storify.Order
		var l storify.OrderLine
		if err := rows.Scan(&o.ID, &o.Customer, &o.AccountID, &o.Total, &o.Status, &o.Placed,
			&l.ProductID, &l.Name, &l.Qty, &l.UnitPrice); err != nil {
			return nil, err
		}
		if n := len(os); n == 0 || os[n-1].ID != o.ID {
			o.Placed = utc(o.Placed)
			os = append(os, o)
		}
		last := &os[len(os)-1]
		last.Lines = append(last.Lines, l)
	}
	return os, rows.Err()
}

// Ship marks a placed order shipped; see storify.Store. ENOTFOUND if there is no
// such order.
func (s *Store) Ship(ctx context.Context, id int64) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var o storify.Order
	// The other instances hear of it on commit, for the customer connected there.
	notify := func(b *pgx.Batch) { s.queueOrderEvent(b, id, storify.StatusShipped) }
	err = s.transact(ctx, notify, closeThen(func(tx pgx.Tx) error {
		if err := setStatus(ctx, tx, id, storify.StatusShipped); err != nil {
			return err
		}
		var err error
		o, err = order(ctx, tx, id)
		return err
	}))
	return o, err
}

// Cancel cancels a placed order and puts its units back in stock, in one
// transaction; see storify.Store. ENOTFOUND if there is no such order. Units go back
// even to a discontinued product: they are on the shelf again either way, and
// Received stays equal to Stock plus the units of orders not cancelled.
//
// The order row is locked first (by its status change), then the products in
// ascending id, the order Checkout locks them in, so a cancel and a checkout cannot
// deadlock.
func (s *Store) Cancel(ctx context.Context, id int64) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var o storify.Order
	// As writeCatalog, and the other instances hear of the order too.
	defer s.catalog.invalidate()
	notify := func(b *pgx.Batch) {
		b.Queue(notifySQL, s.channel, s.instance)
		s.queueOrderEvent(b, id, storify.StatusCancelled)
	}
	err = s.transactCatalog(ctx, notify, closeThen(func(tx pgx.Tx) error {
		if err := setStatus(ctx, tx, id, storify.StatusCancelled); err != nil {
			return err
		}
		var err error
		if o, err = order(ctx, tx, id); err != nil {
			return err
		}
		back := map[int64]int{}
		var ids []int64
		for _, l := range o.Lines {
			if back[l.ProductID] == 0 {
				ids = append(ids, l.ProductID)
			}
			back[l.ProductID] += l.Qty
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		b := &pgx.Batch{}
		for _, pid := range ids {
			b.Queue(`UPDATE products SET stock = stock + $1, stock_version = stock_version + 1 WHERE id = $2`, back[pid], pid)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: cancel order %d: put stock back: %w", id, err)
		}
		return nil
	}))
	return o, err
}

// setStatus moves a placed order to status, or says why it cannot.
func setStatus(ctx context.Context, tx pgx.Tx, id int64, status storify.OrderStatus) error {
	tag, err := tx.Exec(ctx, `UPDATE orders SET status = $1 WHERE id = $2 AND status = $3`,
		string(status), id, string(storify.StatusPlaced))
	if err != nil {
		return fmt.Errorf("postgres: mark order %d %s: %w", id, status, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}

	var cur storify.OrderStatus
	err = tx.QueryRow(ctx, `SELECT status FROM orders WHERE id = $1`, id).Scan(&cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return noOrder(id)
	} else if err != nil {
		return fmt.Errorf("postgres: order %d: %w", id, err)
	}
	switch {
	case cur == status:
		return storify.Errorf(storify.ECONFLICT, "order #%d is %s already", id, cur)
	case cur == storify.StatusShipped:
		return storify.Errorf(storify.ECONFLICT, "order #%d has been shipped; it can no longer be cancelled", id)
	case cur == storify.StatusCancelled:
		return storify.Errorf(storify.ECONFLICT, "order #%d was cancelled; it cannot be shipped", id)
	}
	return storify.Errorf(storify.ECONFLICT, "order #%d is %s", id, cur)
}

// Sales sums units and revenue of orders not cancelled, per product; see
// storify.Store. The sums are cast back to bigint: sum(bigint) is numeric in
// PostgreSQL.
func (s *Store) Sales(ctx context.Context) ([]storify.Sale, error) {
	return s.SalesFor(ctx, storify.Period{})
}

// SalesFor sums the sales of orders placed in a period; see storify.Store.
func (s *Store) SalesFor(ctx context.Context, period storify.Period) (_ []storify.Sale, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var since, before *time.Time // NULL: unbounded
	if !period.Since.IsZero() {
		since = &period.Since
	}
	if !period.Before.IsZero() {
		before = &period.Before
	}
	var sales []storify.Sale
	err = s.read(ctx, func(c querier) error {
		rows, _ := c.Query(ctx, `
			SELECT p.id, p.name, p.category, sum(l.qty)::bigint, sum(l.qty * l.unit_price)::bigint
			FROM order_lines l
			JOIN orders o ON o.id = l.order_id
			JOIN products p ON p.id = l.product_id
			WHERE o.status <> 'cancelled'
				AND ($1::timestamptz IS NULL OR o.placed_at >= $1) AND ($2::timestamptz IS NULL OR o.placed_at < $2)
			GROUP BY p.id
			ORDER BY p.id`, since, before)
		var err error
		sales, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.Sale, error) {
			var sa storify.Sale
			err := row.Scan(&sa.ProductID, &sa.Name, &sa.Category, &sa.Units, &sa.Revenue)
			return sa, err
		})
		if err != nil {
			return fmt.Errorf("postgres: sales: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(sales) == 0 {
		return nil, nil
	}
	return sales, nil
}

func noOrder(id int64) error {
	return storify.Errorf(storify.ENOTFOUND, "no order #%d", id)
}
