package postgres

import (
	"context"
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
