package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// snapshot returns the in-memory copy of the catalog, read again from the database
// on the first read after a write that changed products: writes call
// s.catalog.Invalidate (checkouts s.catalog.Touched, for the products they changed)
// after they commit and before their caller hears of them, and another process's
// commits are noticed within externalCheckEvery (externalWrites). Only a load gets
// the call's budget: the copy in memory needs no deadline, and a read of it is a few
// nanoseconds that a timer would multiply.
func (s *Store) snapshot(ctx context.Context) (*catalog.Snapshot, error) {
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
	return s.catalog.Get(ctx, s.loadProducts, s.loadRows)
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

// loadRows reads the products ids, for a patch of the catalog's copy after
// checkouts changed their stock.
func (s *Store) loadRows(ctx context.Context, ids []int64) ([]storify.Product, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	marks := strings.Repeat(",?", len(ids))[1:]
	rows, err := s.reader.QueryContext(ctx, `SELECT `+productColumns+` FROM products WHERE id IN (`+marks+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read products again: %w", err)
	}
	defer rows.Close()
	var ps []storify.Product
	for rows.Next() {
		var p storify.Product
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued, &p.Category); err != nil {
			return nil, fmt.Errorf("sqlite: read products again: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read products again: %w", err)
	}
	return ps, nil
}
