package sqlite

import (
	"context"
	"database/sql"
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
