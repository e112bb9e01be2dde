package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storify/storify"
)

// Checkout places an order in one write transaction; see storify.Store.
//
// Stock is taken with a conditional UPDATE per product, so the check and the take are
// one statement and nothing can sell a unit twice. Products are taken in ascending id
// order, the order every backend locks rows in, so concurrent checkouts cannot
// deadlock where rows are locked (PostgreSQL); here the write lock alone would do.
func (s *Store) Checkout(ctx context.Context, customer string, items []storify.CartItem) (storify.Order, error) {
	customer, err := storify.CleanName(customer, "customer name")
	if err != nil {
		return storify.Order{}, err
	}
	lines, err := mergeItems(items)
	if err != nil {
		return storify.Order{}, err
	}

	// The lines in the customer's order, priced inside the transaction.
	order := storify.Order{
		Customer: customer,
		Lines:    make([]storify.OrderLine, len(lines)),
		Status:   storify.StatusPlaced,
	}
	byID := make([]int, len(lines))
	for i := range byID {
		byID[i] = i
	}
	sort.Slice(byID, func(a, b int) bool { return lines[byID[a]].ProductID < lines[byID[b]].ProductID })

	err = s.write(ctx, func(tx *sql.Tx) error {
		// Timed once the write lock is held, so that placed times rise with order
		// numbers; rounded as it will read back.
		order.Placed = fromUnixNano(unixNano(time.Now()))
		for _, i := range byID {
			it := lines[i]
			l := storify.OrderLine{ProductID: it.ProductID, Qty: it.Qty}
			err := tx.QueryRowContext(ctx, `
				UPDATE products SET stock = stock - ?
				WHERE id = ? AND stock >= ? AND discontinued = 0
				RETURNING name, price`,
				it.Qty, it.ProductID, it.Qty).Scan(&l.Name, &l.UnitPrice)
			if errors.Is(err, sql.ErrNoRows) {
				// Returning an error rolls back the units taken from earlier lines.
				return whyNotTaken(ctx, tx, it.ProductID)
			} else if err != nil {
				return fmt.Errorf("sqlite: checkout: take %d of product %d: %w", it.Qty, it.ProductID, err)
			}
			order.Lines[i] = l
			order.Total += l.Subtotal()
		}

		err := tx.QueryRowContext(ctx, `
			INSERT INTO orders (customer, total, status, placed_at) VALUES (?, ?, ?, ?)
			RETURNING id`,
			order.Customer, order.Total, order.Status, unixNano(order.Placed)).Scan(&order.ID)
		if err != nil {
			return fmt.Errorf("sqlite: checkout: insert order: %w", err)
		}
		for i, l := range order.Lines {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO order_lines (order_id, line, product_id, name, qty, unit_price)
				VALUES (?, ?, ?, ?, ?, ?)`,
				order.ID, i+1, l.ProductID, l.Name, l.Qty, l.UnitPrice); err != nil {
				return fmt.Errorf("sqlite: checkout: insert line %d of order %d: %w", i+1, order.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return storify.Order{}, err
	}
	return order, nil
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
func whyNotTaken(ctx context.Context, tx *sql.Tx, id int64) error {
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
	if filter.IDs != nil {
		// One JSON parameter instead of one per id: no limit on the number of ids
		// and one statement text to cache.
		where = append(where, `id IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonIDs(filter.IDs))
	}
	if filter.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, filter.Status)
	}
	limit := -1 // no limit, in SQLite
	if filter.Limit > 0 {
		limit = filter.Limit
	}
	args = append(args, limit)
	os, err := queryOrders(ctx, s.reader, strings.Join(where, ` AND `), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list orders: %w", err)
	}
	return os, nil
}

// Order returns one order with its lines; see storify.Store.
func (s *Store) Order(ctx context.Context, id int64) (storify.Order, error) {
	return order(ctx, s.reader, id)
}

func order(ctx context.Context, q queryer, id int64) (storify.Order, error) {
	os, err := queryOrders(ctx, q, `id = ?`, id, 1)
	if err != nil {
		return storify.Order{}, fmt.Errorf("sqlite: order %d: %w", id, err)
	}
	if len(os) == 0 {
		return storify.Order{}, noOrder(id)
	}
	return os[0], nil
}

// queryOrders returns the orders matching where (with args, then the limit as the
// last argument), newest first, with their lines. Orders and lines come in one
// statement, so they are one consistent snapshot without a read transaction.
func queryOrders(ctx context.Context, q queryer, where string, args ...any) ([]storify.Order, error) {
	if where != "" {
		where = `WHERE ` + where
	}
	rows, err := q.QueryContext(ctx, `
		WITH o AS (
			SELECT id, customer, total, status, placed_at FROM orders `+where+`
			ORDER BY id DESC LIMIT ?
		)
		SELECT o.id, o.customer, o.total, o.status, o.placed_at,
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
		var placed int64
		var l storify.OrderLine
		if err := rows.Scan(&o.ID, &o.Customer, &o.Total, &o.Status, &placed,
			&l.ProductID, &l.Name, &l.Qty, &l.UnitPrice); err != nil {
			return nil, err
		}
		if n := len(os); n == 0 || os[n-1].ID != o.ID {
			o.Placed = fromUnixNano(placed)
			os = append(os, o)
		}
		last := &os[len(os)-1]
		last.Lines = append(last.Lines, l)
	}
	return os, rows.Err()
}

// Ship marks a placed order shipped; see storify.Store.
func (s *Store) Ship(ctx context.Context, id int64) (storify.Order, error) {
	var o storify.Order
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := setStatus(ctx, tx, id, storify.StatusShipped); err != nil {
			return err
		}
		var err error
		o, err = order(ctx, tx, id)
		return err
	})
	return o, err
}

// Cancel cancels a placed order and puts its units back in stock, in one write
// transaction; see storify.Store. Units go back even to a discontinued product: they
// are on the shelf again either way, and Received stays equal to Stock plus the units
// of orders not cancelled.
func (s *Store) Cancel(ctx context.Context, id int64) (storify.Order, error) {
	var o storify.Order
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := setStatus(ctx, tx, id, storify.StatusCancelled); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE products SET stock = stock +
				(SELECT sum(qty) FROM order_lines WHERE order_id = ?1 AND product_id = products.id)
			WHERE id IN (SELECT product_id FROM order_lines WHERE order_id = ?1)`, id); err != nil {
			return fmt.Errorf("sqlite: cancel order %d: put stock back: %w", id, err)
		}
		var err error
		o, err = order(ctx, tx, id)
		return err
	})
	return o, err
}

// setStatus moves a placed order to status, or says why it cannot.
func setStatus(ctx context.Context, tx *sql.Tx, id int64, status storify.OrderStatus) error {
	res, err := tx.ExecContext(ctx, `UPDATE orders SET status = ? WHERE id = ? AND status = ?`,
		status, id, storify.StatusPlaced)
	if err != nil {
		return fmt.Errorf("sqlite: mark order %d %s: %w", id, status, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: mark order %d %s: %w", id, status, err)
	} else if n == 1 {
		return nil
	}

	var cur storify.OrderStatus
	err = tx.QueryRowContext(ctx, `SELECT status FROM orders WHERE id = ?`, id).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return noOrder(id)
	} else if err != nil {
		return fmt.Errorf("sqlite: order %d: %w", id, err)
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

// Sales sums units and revenue of orders not cancelled, per product; see storify.Store.
func (s *Store) Sales(ctx context.Context) ([]storify.Sale, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT p.id, p.name, sum(l.qty), sum(l.qty * l.unit_price)
		FROM order_lines l
		JOIN orders o ON o.id = l.order_id
		JOIN products p ON p.id = l.product_id
		WHERE o.status <> 'cancelled'
		GROUP BY p.id
		ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sales: %w", err)
	}
	defer rows.Close()
	var sales []storify.Sale
	for rows.Next() {
		var sa storify.Sale
		if err := rows.Scan(&sa.ProductID, &sa.Name, &sa.Units, &sa.Revenue); err != nil {
			return nil, fmt.Errorf("sqlite: sales: %w", err)
		}
		sales = append(sales, sa)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sales: %w", err)
	}
	return sales, nil
}

func jsonIDs(ids []int64) string {
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

func noOrder(id int64) error {
	return storify.Errorf(storify.ENOTFOUND, "no order #%d", id)
}
