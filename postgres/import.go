package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// ImportProducts adds and updates products from a catalog file's rows, all or
// none; see storify.Store. The plan is made inside the write transaction, from
// the products as they are then (locked against other writers), so that nothing
// written meanwhile is missed. New products go in with COPY, updates in one
// batch: a file of 100,000 rows is a few round trips, not 100,000.
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
	ctx, end := s.callFor(withBudget(ctx, budget), &err, budget)
	defer end()
	var plan catalog.ImportPlan
	err = s.writeCatalog(ctx, func(tx pgx.Tx) error {
		// Another import or AddProduct committing meanwhile could add a name this
		// plan adds too; the lock makes the plan and its writes one step.
		// The session's statement_timeout is the budget of one ordinary call.
		if err := setLocalTimeouts(ctx, tx, budget); err != nil {
			return fmt.Errorf("postgres: import: %w", err)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("postgres: import: %w", err)
		}
		var current []storify.Product
		prows, _ := tx.Query(ctx, `SELECT `+productColumns+` FROM products ORDER BY id`)
		var p storify.Product
		_, err := pgx.ForEachRow(prows, []any{&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued, &p.Category},
			func() error { current = append(current, p); return nil })
		if err != nil {
			return fmt.Errorf("postgres: import: read the catalog: %w", err)
		}
		if plan, err = catalog.PlanImport(rows, current); err != nil {
			return err
		}
		if len(plan.Add) > 0 {
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"products"},
				[]string{"name", "name_key", "description", "description_key", "price", "stock", "received", "category", "category_key"},
				pgx.CopyFromSlice(len(plan.Add), func(i int) ([]any, error) {
					r := plan.Add[i]
					return []any{r.Name, storify.FoldKey(r.Name), r.Description, storify.FoldKey(r.Description),
						int64(r.Price), int64(r.Stock), int64(r.Stock), r.Category, storify.FoldKey(r.Category)}, nil
				}))
			if err != nil {
				return fmt.Errorf("postgres: import: %w", err)
			}
		}
		if len(plan.Update) > 0 {
			var b pgx.Batch
			for _, u := range plan.Update {
				r := u.Row
				b.Queue(`UPDATE products SET name = $1, name_key = $2, description = $3, description_key = $4, price = $5,
						received = received + $6 - stock, stock = $6, stock_version = stock_version + 1, category = $7, category_key = $8
					WHERE id = $9`,
					r.Name, storify.FoldKey(r.Name), r.Description, storify.FoldKey(r.Description), int64(r.Price), int64(r.Stock),
					r.Category, storify.FoldKey(r.Category), u.ID)
			}
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return fmt.Errorf("postgres: import: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return storify.ImportResult{}, err
	}
	if len(plan.Add) > 0 {
		// The plans PostgreSQL keeps for the pool's prepared statements were made
		// for the catalog as it was: for a few products, a scan of the table, which
		// at 100,000 is what every checkout would then do, until autovacuum next
		// analyzes it (up to a minute). ANALYZE makes them be planned again.
		if _, err := s.pool.Exec(ctx, `ANALYZE products`); err != nil {
			s.log.Warn("import: the catalog could not be analyzed; checkouts may be slow for a minute", "err", err)
		}
	}
	return plan.ImportResult, nil
}
