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

// Checkout places an order in one transaction; see storify.Store.
func (s *Store) Checkout(ctx context.Context, no storify.NewOrder) (storify.Order, error) {
	co, err := newCheckout(no)
	if err != nil {
		return storify.Order{}, err
	}
	var order storify.Order
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		order, err = co.place(ctx, tx)
		return err
	})
	if err != nil {
		return storify.Order{}, err
	}
	return order, nil
}

// checkout is a checked NewOrder, ready to be placed.
type checkout struct {
	customer  string
	accountID int64
	lines     []storify.CartItem // merged, in cart order
	byID      []int              // indexes of lines in ascending product id
}

// newCheckout checks what can be checked without the database, so that a bad order
// never takes a connection.
func newCheckout(no storify.NewOrder) (*checkout, error) {
	customer, err := storify.CleanName(no.Customer, "customer name")
	if err != nil {
		return nil, err
	}
	lines, err := mergeItems(no.Items)
	if err != nil {
		return nil, err
	}
	byID := make([]int, len(lines))
	for i := range byID {
		byID[i] = i
	}
	sort.Slice(byID, func(a, b int) bool { return lines[byID[a]].ProductID < lines[byID[b]].ProductID })
	return &checkout{customer: customer, accountID: no.AccountID, lines: lines, byID: byID}, nil
}

// takeStock is the conditional update that sells qty units of a product: the check
// and the take are one statement, and under READ COMMITTED PostgreSQL re-evaluates
// the WHERE clause on the newest row version after waiting for a concurrent writer,
// so no unit is sold twice. No row returned means no row affected.
const takeStock = `UPDATE products SET stock = stock - $1
	WHERE id = $2 AND stock >= $1 AND NOT discontinued
	RETURNING name, price`

// insertOrder writes the order, its lines and, for an account, empties its saved cart
// in one statement (data-modifying CTEs always run to completion), so a checkout
// costs one round trip here whatever the number of lines. The placed time is the
// database's clock, which every instance shares, read after the stock is taken.
const insertOrder = `WITH o AS (
		INSERT INTO orders (customer, account_id, total, status, placed_at)
		VALUES ($1, $2, $3, 'placed', clock_timestamp())
		RETURNING id, placed_at
	), l AS (
		INSERT INTO order_lines (order_id, line, product_id, name, qty, unit_price)
		SELECT o.id, u.line, u.product_id, u.name, u.qty, u.unit_price
		FROM o, unnest($4::bigint[], $5::text[], $6::integer[], $7::bigint[])
			WITH ORDINALITY AS u (product_id, name, qty, unit_price, line)
	), c AS (
		DELETE FROM saved_cart_items WHERE account_id = $2
	)
	SELECT id, placed_at FROM o`

// place writes the order in tx, or returns why it cannot and leaves tx to be rolled
// back, which puts back the units taken from earlier lines.
//
// An account's row is locked first, so that a checkout and a SaveCart of one account
// take turns. Then stock is taken line by line in ascending product id, the order in
// which every transaction here locks products, so that two checkouts cannot each
// hold a row the other waits for. The updates go to the server as one batch, one
// round trip, and run there one after another in that order.
func (co *checkout) place(ctx context.Context, tx pgx.Tx) (storify.Order, error) {
	order := storify.Order{
		Customer:  co.customer,
		AccountID: co.accountID,
		Lines:     make([]storify.OrderLine, len(co.lines)),
		Status:    storify.StatusPlaced,
	}
	var account *int64 // NULL for a guest
	if co.accountID != 0 {
		account = &co.accountID
		if err := lockAccount(ctx, tx, co.accountID); err != nil {
			return storify.Order{}, err
		}
	}

	b := &pgx.Batch{}
	for _, i := range co.byID {
		b.Queue(takeStock, co.lines[i].Qty, co.lines[i].ProductID)
	}
	short, taken, err := co.take(ctx, tx, b, order.Lines)
	if err != nil {
		return storify.Order{}, err
	}
	if !taken {
		return storify.Order{}, whyNotTaken(ctx, tx, short)
	}

	n := len(order.Lines)
	ids, names, qtys, prices := make([]int64, n), make([]string, n), make([]int32, n), make([]int64, n)
	for i, l := range order.Lines {
		order.Total += l.Subtotal()
		ids[i], names[i], qtys[i], prices[i] = l.ProductID, l.Name, int32(l.Qty), int64(l.UnitPrice)
	}
	var placed time.Time
	if err := tx.QueryRow(ctx, insertOrder, order.Customer, account, order.Total, ids, names, qtys, prices).
		Scan(&order.ID, &placed); err != nil {
		return storify.Order{}, fmt.Errorf("postgres: checkout: insert order: %w", err)
	}
	order.Placed = utc(placed)
	return order, nil
}

// take reads the results of the batch of stock updates into lines. It reports
// whether every line got its stock and, if not, the product id of the first line (in
// ascending id) that did not.
func (co *checkout) take(ctx context.Context, tx pgx.Tx, b *pgx.Batch, lines []storify.OrderLine) (short int64, taken bool, err error) {
	br := tx.SendBatch(ctx, b)
	defer func() {
		// Close reads what is left of the batch; its error is the batch's if the
		// loop stopped early.
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("postgres: checkout: take stock: %w", cerr)
		}
	}()
	for _, i := range co.byID {
		it := co.lines[i]
		l := storify.OrderLine{ProductID: it.ProductID, Qty: it.Qty}
		err := br.QueryRow().Scan(&l.Name, &l.UnitPrice)
		if errors.Is(err, pgx.ErrNoRows) {
			return it.ProductID, false, nil
		} else if err != nil {
			return 0, false, fmt.Errorf("postgres: checkout: take %d of product %d: %w", it.Qty, it.ProductID, err)
		}
		lines[i] = l
	}
	return 0, true, nil
}

// mergeItems checks the items of a checkout and adds up the quantities of a product
// that appears more than once, keeping the order of first appearance: each product
// must be taken in one conditional update, or two lines could each pass the stock
// check and together sell more than there is.
func mergeItems(items []storify.CartItem) ([]storify.CartItem, error) {
	if len(items) == 0 {
		return nil, storify.Errorf(storify.EINVALID, "the order is empty")
	}
	var lines []storify.CartItem
	at := make(map[int64]int, len(items))
	for _, it := range items {
		if it.Qty <= 0 || it.Qty > storify.MaxQty {
			return nil, storify.Errorf(storify.EINVALID, "the quantity must be a whole number from 1 to %d", storify.MaxQty)
		}
		i, ok := at[it.ProductID]
		if !ok {
			at[it.ProductID] = len(lines)
			lines = append(lines, it)
			continue
		}
		lines[i].Qty += it.Qty
		if lines[i].Qty > storify.MaxQty {
			return nil, storify.Errorf(storify.EINVALID, "at most %d units of one product in an order", storify.MaxQty)
		}
	}
	return lines, nil
}

// whyNotTaken explains, as the customer should read it, why the conditional update
// took no stock of product id.
func whyNotTaken(ctx context.Context, tx pgx.Tx, id int64) error {
	p, err := product(ctx, tx, id)
	switch {
	case err != nil:
		return err
	case p.Discontinued:
		return storify.Errorf(storify.ECONFLICT, "%s is no longer sold", p.Name)
	case p.Stock == 0:
		return storify.Errorf(storify.ECONFLICT, "%s is sold out", p.Name)
	default:
		return storify.Errorf(storify.ECONFLICT, "only %d %s left", p.Stock, p.Name)
	}
}

// Orders lists orders newest first; see storify.Store.
func (s *Store) Orders(ctx context.Context, filter storify.OrderFilter) ([]storify.Order, error) {
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
	limit := ""
	if filter.Limit > 0 {
		limit = `LIMIT ` + arg(filter.Limit)
	}
	var os []storify.Order
	err := s.read(ctx, func(c querier) error {
		var err error
		if os, err = queryOrders(ctx, c, strings.Join(where, ` AND `), limit, args...); err != nil {
			return fmt.Errorf("postgres: list orders: %w", err)
		}
		return nil
	})
	return os, err
}

// Order returns one order with its lines; see storify.Store.
func (s *Store) Order(ctx context.Context, id int64) (storify.Order, error) {
	var o storify.Order
	err := s.read(ctx, func(c querier) error {
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
func (s *Store) Ship(ctx context.Context, id int64) (storify.Order, error) {
	var o storify.Order
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := setStatus(ctx, tx, id, storify.StatusShipped); err != nil {
			return err
		}
		var err error
		o, err = order(ctx, tx, id)
		return err
	})
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
func (s *Store) Cancel(ctx context.Context, id int64) (storify.Order, error) {
	var o storify.Order
	err := s.write(ctx, func(tx pgx.Tx) error {
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
	})
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
	var sales []storify.Sale
	err := s.read(ctx, func(c querier) error {
		rows, _ := c.Query(ctx, `
			SELECT p.id, p.name, sum(l.qty)::bigint, sum(l.qty * l.unit_price)::bigint
			FROM order_lines l
			JOIN orders o ON o.id = l.order_id
			JOIN products p ON p.id = l.product_id
			WHERE o.status <> 'cancelled'
			GROUP BY p.id
			ORDER BY p.id`)
		var err error
		sales, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.Sale, error) {
			var sa storify.Sale
			err := row.Scan(&sa.ProductID, &sa.Name, &sa.Units, &sa.Revenue)
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
