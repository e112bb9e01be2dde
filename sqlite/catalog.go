package sqlite

import (
	"context"
	"fmt"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// snapshot returns the in-memory copy of the catalog, read again from the database
// on the first read after a write that changed products: writes call
// s.catalog.Invalidate after they commit and before their caller hears of them, and
// another process's commits are noticed within externalCheckEvery. Only a load gets
// the call's budget: the copy in memory needs no deadline, and a read of it is a few
// nanoseconds that a timer would multiply.
func (s *Store) snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	if s.others.changed(ctx) {
		s.catalog.Invalidate()
	}
	if snap := s.catalog.Fresh(); snap != nil {
		return snap, nil
	}
	return s.load(ctx)
}

// load is snapshot when the copy is stale. (Apart, so that the fresh path leaves
// nothing on the heap.)
func (s *Store) load(ctx context.Context) (_ *catalog.Snapshot, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	return s.catalog.Get(ctx, s.loadProducts)
}

// loadProducts reads every product, in one statement so that the copy is one
// consistent snapshot of the table.
func (s *Store) loadProducts(ctx context.Context) ([]storify.Product, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+productColumns+` FROM products ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
	}
	defer rows.Close()
	var ps []storify.Product
	for rows.Next() {
		var p storify.Product
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued, &p.Category); err != nil {
			return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
	}
	return ps, nil
}
