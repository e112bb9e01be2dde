package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// ImportProducts adds and updates products from a catalog file's rows, all or
// none; see storify.Store. The plan is made inside the write transaction, from
// the products as they are then, so that nothing written meanwhile is missed.
func (s *Store) ImportProducts(ctx context.Context, rows []storify.ProductRow, dryRun bool) (_ storify.ImportResult, err error) {
	if dryRun {
		ps, err := s.Products(ctx, storify.ProductFilter{All: true})
		if err != nil {
			return storify.ImportResult{}, err
		}
		plan, err := catalog.PlanImport(rows, ps)
		return plan.ImportResult, err
	}
	budget := max(s.timeout, storify.ImportBudget)
	ctx, end := s.callFor(ctx, &err, budget)
	defer end()
	var plan catalog.ImportPlan
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		current, err := allProducts(ctx, tx)
		if err != nil {
			return err
		}
		if plan, err = catalog.PlanImport(rows, current); err != nil {
			return err
		}
		add, err := tx.PrepareContext(ctx, `
			INSERT INTO products (name, name_key, description, description_key, price, stock, received, category, category_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: import: %w", err)
		}
		defer add.Close()
		now := unixNano(time.Now())
		for _, r := range plan.Add {
			if _, err := add.ExecContext(ctx, r.Name, storify.FoldKey(r.Name), r.Description, storify.FoldKey(r.Description),
				r.Price, r.Stock, r.Stock, r.Category, storify.FoldKey(r.Category), now); err != nil {
				return fmt.Errorf("sqlite: import line %d: %w", r.Line, err)
			}
		}
		upd, err := tx.PrepareContext(ctx, `
			UPDATE products SET name = ?, name_key = ?, description = ?, description_key = ?, price = ?,
				received = received + ? - stock, stock = ?, category = ?, category_key = ?
			WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("sqlite: import: %w", err)
		}
		defer upd.Close()
		for _, u := range plan.Update {
			r := u.Row
			if _, err := upd.ExecContext(ctx, r.Name, storify.FoldKey(r.Name), r.Description, storify.FoldKey(r.Description),
				r.Price, r.Stock, r.Stock, r.Category, storify.FoldKey(r.Category), u.ID); err != nil {
				return fmt.Errorf("sqlite: import line %d: %w", r.Line, err)
			}
		}
		return nil
	})
	if err != nil {
		return storify.ImportResult{}, err
	}
	return plan.ImportResult, nil
}

// allProducts reads every product, in catalog order, through q (a transaction or
// the reader pool).
func allProducts(ctx context.Context, q queryer) ([]storify.Product, error) {
	return queryProducts(ctx, q, `ORDER BY id`)
}

// queryProducts reads the products that rest (a WHERE or ORDER BY clause, with
// args) selects.
func queryProducts(ctx context.Context, q queryer, rest string, args ...any) ([]storify.Product, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+productColumns+` FROM products `+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
	}
	defer rows.Close()
	var ps []storify.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
	}
	return ps, nil
}
