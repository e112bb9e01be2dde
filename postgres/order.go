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
	qtys     []int32   // quantity of each line, in cart order
	deadline time.Time // when its caller's budget ends
}

// newCheckout checks what can be checked without the database, so that a bad order
// never takes a connection.
func newCheckout(no storify.NewOrder) (*checkout, error) {
	checked, err := no.Check()
	if err != nil {
		return nil, err
	}
	co := &checkout{CheckedOrder: checked, ids: make([]int64, len(checked.Lines)), qtys: make([]int32, len(checked.Lines))}
	for i, l := range checked.Lines {
		co.ids[i], co.qtys[i] = l.ProductID, int32(l.Qty)
	}
	return co, nil
}

// placeOrder is the whole of a checkout in one statement, run after the transaction
// has locked the order's account and products (lockAccounts, lockProducts). Only if
// every product exists, is on sale and has the stock, and the account (if any)
// exists and its saved cart holds exactly the order's lines, it takes the stock, writes the order and its lines, empties the account's
// saved cart and sends the NOTIFY; otherwise it changes nothing. Either way it
// returns the products as it found them, in ascending id, and with them the order's
// id and time (NULL if it was not placed), so a refusal is explained without another
// query.
//
// The locks must be taken by an earlier statement. This statement's snapshot is then
// taken after them, so it reads the newest version of every row it checks, which
// nobody else can change before the commit; the checks and the updates agree. Were
// the rows locked (FOR UPDATE) in this statement, the snapshot could predate a
// concurrent change that the lock waited for, and the UPDATE would compute the new
// row from the version in the snapshot and fail the stock >= 0 CHECK before
// PostgreSQL re-read the newest version.
//
// Data-modifying CTEs always run to completion, whether read or not; the SELECT ones
// run only as far as they are read, which is why the NOTIFY is read in the last
// column. The placed time is the database's clock, which every instance shares.
//
// The checkout's token ($7) may name an order placed already (prior), by an earlier
// attempt whose COMMIT went through unbeknown to us, or by the same checkout sent
// again. Then nothing is placed, and the prior order is returned as it was placed:
// its number, time and status, and each line's name and unit price. The token's
// advisory lock, taken before (lockTokens), makes sure that this statement sees such
// an order if it exists, committed.
const placeOrder = `WITH want AS (
		SELECT * FROM unnest($3::bigint[], $4::integer[]) WITH ORDINALITY AS w (product_id, qty, line)
	), prior AS (
		SELECT id, placed_at, status FROM orders WHERE token = $7
	), found AS MATERIALIZED (
		SELECT id, name, price, stock, discontinued FROM products WHERE id = ANY($3::bigint[])
	), cart AS (
		SELECT $2::bigint IS NULL OR (
			(SELECT count(*) FROM saved_cart_items WHERE account_id = $2::bigint) = cardinality($3::bigint[])
			AND NOT EXISTS (
				SELECT FROM want w LEFT JOIN saved_cart_items s ON s.account_id = $2::bigint AND s.product_id = w.product_id
				WHERE s.qty IS DISTINCT FROM w.qty)) AS ok
	), verdict AS (
		SELECT count(*) = cardinality($3::bigint[])
				AND coalesce(bool_and(p.stock >= w.qty AND NOT p.discontinued), false)
				AND ($2::bigint IS NULL OR EXISTS (SELECT FROM accounts WHERE id = $2::bigint))
				AND (SELECT ok FROM cart)
				AND NOT EXISTS (SELECT FROM prior) AS ok,
			coalesce(sum(p.price * w.qty), 0)::bigint AS total
		FROM found p JOIN want w ON w.product_id = p.id
	), taken AS (
		UPDATE products p SET stock = p.stock - w.qty
		FROM want w
		WHERE p.id = w.product_id AND (SELECT ok FROM verdict)
	), o AS (
		INSERT INTO orders (customer, account_id, total, status, placed_at, token)
		SELECT $1, $2::bigint, total, 'placed', clock_timestamp(), $7 FROM verdict WHERE ok
		RETURNING id, placed_at
	), l AS (
		INSERT INTO order_lines (order_id, line, product_id, name, qty, unit_price)
		SELECT o.id, w.line, w.product_id, p.name, w.qty, p.price
		FROM o, want w JOIN found p ON p.id = w.product_id
	), c AS (
		DELETE FROM saved_cart_items WHERE account_id = $2::bigint AND (SELECT ok FROM verdict)
	), n AS (
		SELECT pg_notify($5, $6) FROM o
	)
	SELECT p.id, coalesce(pl.name, p.name), coalesce(pl.unit_price, p.price), p.stock, p.discontinued,
		coalesce(o.id, pr.id), coalesce(o.placed_at, pr.placed_at), coalesce(pr.status, 'placed'),
		(SELECT count(*) FROM n), (SELECT ok FROM cart)
	FROM found p LEFT JOIN o ON true LEFT JOIN prior pr ON true
	LEFT JOIN order_lines pl ON pl.order_id = pr.id AND pl.product_id = p.id
	ORDER BY p.id`

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

// lockProducts locks products in ascending id, as every transaction here does:
// FOR NO KEY UPDATE under ORDER BY locks the rows one by one in that order, so two
// transactions cannot each hold a row the other waits for.
const lockProducts = `SELECT FROM products WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`

// lockAccounts locks accounts in ascending id and returns those that exist; see
// lockAccount.
const lockAccounts = `SELECT id FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`

// queue queues the checkout's placeOrder statement.
func (co *checkout) queue(b *pgx.Batch, s *Store) {
	var account *int64 // NULL for a guest
	if co.AccountID != 0 {
		account = &co.AccountID
	}
	b.Queue(placeOrder, co.Customer, account, co.ids, co.qtys, s.channel, s.instance, co.Token)
}

// foundProduct is a product as placeOrder found it, before it took any stock.
type foundProduct struct {
	name         string
	price        storify.Cents
	stock        int
	discontinued bool
}

// read reads the result of the checkout's placeOrder statement from br: the order
// placed, or why it was not, as the customer should read it (a *storify.Error). Any
// other error is the statement's, which has aborted the transaction.
func (co *checkout) read(br pgx.BatchResults) (storify.Order, error) {
	rows, _ := br.Query()
	found := make(map[int64]foundProduct, len(co.Lines))
	var id int64
	var p foundProduct
	var orderID *int64
	var placed *time.Time
	var status storify.OrderStatus
	var notified int64
	cartOK := true
	_, err := pgx.ForEachRow(rows, []any{&id, &p.name, &p.price, &p.stock, &p.discontinued, &orderID, &placed, &status, &notified, &cartOK}, func() error {
		found[id] = p
		return nil
	})
	if err != nil {
		return storify.Order{}, fmt.Errorf("postgres: checkout: %w", err)
	}
	if orderID == nil && !cartOK {
		return storify.Order{}, storify.ErrCartChanged // an account buys its saved cart, as it is now
	}
	if orderID == nil {
		return storify.Order{}, co.whyNot(found)
	}

	order := storify.Order{
		ID:        *orderID,
		Customer:  co.Customer,
		AccountID: co.AccountID,
		Lines:     make([]storify.OrderLine, len(co.Lines)),
		Status:    status,
		Placed:    utc(*placed),
	}
	for i, it := range co.Lines {
		p := found[it.ProductID]
		order.Lines[i] = storify.OrderLine{ProductID: it.ProductID, Name: p.name, Qty: it.Qty, UnitPrice: p.price}
		order.Total += order.Lines[i].Subtotal()
	}
	return order, nil
}

// whyNot explains why placeOrder placed nothing, from the products as it found them:
// the first line in ascending product id that could not be sold.
func (co *checkout) whyNot(found map[int64]foundProduct) error {
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
	return errUnexplained
}

// errUnexplained is placeOrder placing nothing while every line could be sold, as it
// does when the account is unknown.
var errUnexplained = errors.New("postgres: checkout: no order was placed, yet every line could be sold")

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
	err = s.transact(ctx, notify, closeThen(func(tx pgx.Tx) error {
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
			b.Queue(`UPDATE products SET stock = stock + $1 WHERE id = $2`, back[pid], pid)
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
