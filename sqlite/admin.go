package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storify/storify"
)

// Initialize records the store's first opening and adds catalog then; see
// storify.Admin.
func (s *Store) Initialize(ctx context.Context, catalog []storify.NewProduct) (bool, error) {
	clean, err := cleanCatalog(catalog)
	if err != nil {
		return false, err
	}
	first := false
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO store_meta (key, value) VALUES ('initialized', ?) ON CONFLICT (key) DO NOTHING`,
			now.UTC().Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("sqlite: initialize: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		first = true
		for _, p := range clean {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO products (name, name_key, description, description_key, price, stock, received, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				p.Name, storify.FoldKey(p.Name), p.Description, storify.FoldKey(p.Description), p.Price, p.Stock, p.Stock, unixNano(now))
			if isUniqueViolation(err) {
				return storify.Errorf(storify.ECONFLICT, "there is already a product named %q", p.Name)
			} else if err != nil {
				return fmt.Errorf("sqlite: initialize: add product %q: %w", p.Name, err)
			}
		}
		return nil
	})
	return first && err == nil, err
}

// cleanCatalog checks every product of catalog as AddProduct would.
func cleanCatalog(catalog []storify.NewProduct) ([]storify.NewProduct, error) {
	clean := make([]storify.NewProduct, len(catalog))
	for i, p := range catalog {
		var err error
		if clean[i], err = p.Clean(); err != nil {
			return nil, err
		}
	}
	return clean, nil
}

// AdjustStock corrects a product's stock and records why; see storify.Admin. The
// one writer connection serializes it with checkouts and other adjustments.
func (s *Store) AdjustStock(ctx context.Context, id int64, delta int, reason string) (storify.Product, error) {
	reason, err := storify.CheckAdjustment(delta, reason)
	if err != nil {
		return storify.Product{}, err
	}
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		cur, err := product(ctx, tx, id)
		if err != nil {
			return err
		}
		if delta > 0 {
			var written int
			if err := tx.QueryRowContext(ctx, `SELECT -coalesce(sum(delta), 0) FROM stock_adjustments WHERE product_id = ?`, id).Scan(&written); err != nil {
				return fmt.Errorf("sqlite: adjust product %d: %w", id, err)
			}
			if delta > written {
				return storify.ErrPutBack(cur.Name, written)
			}
		}
		p, err = scanProduct(tx.QueryRowContext(ctx, `
			UPDATE products SET stock = stock + ? WHERE id = ? AND stock + ? BETWEEN 0 AND ?
			RETURNING `+productColumns, delta, id, delta, storify.MaxStock))
		if errors.Is(err, sql.ErrNoRows) {
			return storify.ErrWriteOff(cur.Name, cur.Stock)
		} else if err != nil {
			return fmt.Errorf("sqlite: adjust product %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_adjustments (product_id, delta, reason, made_at) VALUES (?, ?, ?, ?)`,
			id, delta, reason, unixNano(time.Now())); err != nil {
			return fmt.Errorf("sqlite: adjust product %d: record it: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Adjustments lists stock adjustments, oldest first; see storify.Admin.
func (s *Store) Adjustments(ctx context.Context, productID int64) ([]storify.Adjustment, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT id, product_id, delta, reason, made_at FROM stock_adjustments
		WHERE ? = 0 OR product_id = ? ORDER BY id`, productID, productID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list adjustments: %w", err)
	}
	defer rows.Close()
	var adjs []storify.Adjustment
	for rows.Next() {
		var a storify.Adjustment
		var made int64
		if err := rows.Scan(&a.ID, &a.ProductID, &a.Delta, &a.Reason, &made); err != nil {
			return nil, fmt.Errorf("sqlite: list adjustments: %w", err)
		}
		a.Made = fromUnixNano(made)
		adjs = append(adjs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list adjustments: %w", err)
	}
	return adjs, nil
}
