package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// Initialize records the store's first opening and adds catalog then; see
// storify.Admin. Instances starting together on one database race for the one
// row: the unique key lets exactly one of them insert it.
func (s *Store) Initialize(ctx context.Context, catalog []storify.NewProduct) (bool, error) {
	clean := make([]storify.NewProduct, len(catalog))
	for i, p := range catalog {
		var err error
		if clean[i], err = p.Clean(); err != nil {
			return false, err
		}
	}
	first := false
	err := s.writeCatalog(ctx, func(tx pgx.Tx) error {
		first = false // the transaction may run again
		tag, err := tx.Exec(ctx, `INSERT INTO store_meta (key, value) VALUES ('initialized', $1) ON CONFLICT (key) DO NOTHING`,
			time.Now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("postgres: initialize: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		first = true
		for _, p := range clean {
			_, err := tx.Exec(ctx, `
				INSERT INTO products (name, name_key, description, description_key, price, stock, received)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`,
				p.Name, storify.FoldKey(p.Name), p.Description, storify.FoldKey(p.Description), p.Price, p.Stock)
			if isUniqueViolation(err, "products_name_key") {
				return storify.Errorf(storify.ECONFLICT, "there is already a product named %q", p.Name)
			} else if err != nil {
				return fmt.Errorf("postgres: initialize: add product %q: %w", p.Name, err)
			}
		}
		return nil
	})
	return first && err == nil, err
}

// AdjustStock corrects a product's stock and records why; see storify.Admin. The
// product's row is locked first, so that concurrent adjustments of one product
// check the units written off one after another.
func (s *Store) AdjustStock(ctx context.Context, id int64, delta int, reason string) (storify.Product, error) {
	reason, err := storify.CheckAdjustment(delta, reason)
	if err != nil {
		return storify.Product{}, err
	}
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx pgx.Tx) error {
		cur, err := scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1 FOR NO KEY UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return storify.ErrNoProduct(id)
		} else if err != nil {
			return fmt.Errorf("postgres: adjust product %d: %w", id, err)
		}
		if delta > 0 {
			var written int
			if err := tx.QueryRow(ctx, `SELECT -coalesce(sum(delta), 0) FROM stock_adjustments WHERE product_id = $1`, id).Scan(&written); err != nil {
				return fmt.Errorf("postgres: adjust product %d: %w", id, err)
			}
			if delta > written {
				return storify.ErrPutBack(cur.Name, written)
			}
		}
		p, err = scanProduct(tx.QueryRow(ctx, `
			UPDATE products SET stock = stock + $1 WHERE id = $2 AND stock + $1 BETWEEN 0 AND $3
			RETURNING `+productColumns, delta, id, storify.MaxStock))
		if errors.Is(err, pgx.ErrNoRows) {
			return storify.ErrWriteOff(cur.Name, cur.Stock)
		} else if err != nil {
			return fmt.Errorf("postgres: adjust product %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stock_adjustments (product_id, delta, reason) VALUES ($1, $2, $3)`, id, delta, reason); err != nil {
			return fmt.Errorf("postgres: adjust product %d: record it: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Adjustments lists stock adjustments, oldest first; see storify.Admin.
func (s *Store) Adjustments(ctx context.Context, productID int64) ([]storify.Adjustment, error) {
	var adjs []storify.Adjustment
	err := s.read(ctx, func(q querier) error {
		rows, _ := q.Query(ctx, `
			SELECT id, product_id, delta, reason, made_at FROM stock_adjustments
			WHERE $1 = 0 OR product_id = $1 ORDER BY id`, productID)
		var err error
		adjs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.Adjustment, error) {
			var a storify.Adjustment
			err := row.Scan(&a.ID, &a.ProductID, &a.Delta, &a.Reason, &a.Made)
			a.Made = utc(a.Made)
			return a, err
		})
		if err != nil {
			return fmt.Errorf("postgres: list adjustments: %w", err)
		}
		return nil
	})
	return adjs, err
}
