package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/storify/storify"
)

// Orders lists orders newest first; see storify.Store.
func (s *Store) Orders(ctx context.Context, filter storify.OrderFilter) (_ []storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var where []string
	var args []any
	if filter.IDs != nil {
		// One JSON parameter instead of one per id: no limit on the number of ids
		// and one statement text to cache.
		where = append(where, `id IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonIDs(filter.IDs))
	}
	if filter.AccountID != 0 {
		where = append(where, `account_id = ?`)
		args = append(args, filter.AccountID)
	}
	if filter.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, filter.Status)
	}
	if !filter.Placed.Since.IsZero() {
		where = append(where, `placed_at >= ?`)
		args = append(args, unixNano(filter.Placed.Since))
	}
	if !filter.Placed.Before.IsZero() {
		where = append(where, `placed_at < ?`)
		args = append(args, unixNano(filter.Placed.Before))
	}
	if filter.Token != "" {
		// Final as it stands: a checkout's commit is settled (see resolve) before
		// its caller is answered, and there is no other writer to wait for.
		where = append(where, `token = ?`)
		args = append(args, filter.Token)
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
func (s *Store) Order(ctx context.Context, id int64) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
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
			SELECT id, customer, account_id, total, status, placed_at FROM orders `+where+`
			ORDER BY id DESC LIMIT ?
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
		var placed int64
		var l storify.OrderLine
		if err := rows.Scan(&o.ID, &o.Customer, &o.AccountID, &o.Total, &o.Status, &placed,
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
func (s *Store) Ship(ctx context.Context, id int64) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var o storify.Order
	err = s.write(ctx, func(tx *sql.Tx) error {
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
func (s *Store) Cancel(ctx context.Context, id int64) (_ storify.Order, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var o storify.Order
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
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
	return s.SalesFor(ctx, storify.Period{})
}

// SalesFor sums the sales of orders placed in a period; see storify.Store.
func (s *Store) SalesFor(ctx context.Context, period storify.Period) (_ []storify.Sale, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	since, before := int64(math.MinInt64), int64(math.MaxInt64)
	if !period.Since.IsZero() {
		since = unixNano(period.Since)
	}
	if !period.Before.IsZero() {
		before = unixNano(period.Before)
	}
	rows, err := s.reader.QueryContext(ctx, `
		SELECT p.id, p.name, p.category, sum(l.qty), sum(l.qty * l.unit_price)
		FROM order_lines l
		JOIN orders o ON o.id = l.order_id
		JOIN products p ON p.id = l.product_id
		WHERE o.status <> 'cancelled' AND o.placed_at >= ? AND o.placed_at < ?
		GROUP BY p.id
		ORDER BY p.id`, since, before)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sales: %w", err)
	}
	defer rows.Close()
	var sales []storify.Sale
	for rows.Next() {
		var sa storify.Sale
		if err := rows.Scan(&sa.ProductID, &sa.Name, &sa.Category, &sa.Units, &sa.Revenue); err != nil {
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
