package sqlite

import (
	"context"
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
	return s.catalog.Get(ctx, catalog.Unversioned(s.loadProducts), catalog.UnversionedRows(s.loadRows))
}

// loadProducts reads every product, in one statement so that the copy is one
// consistent snapshot of the table.
func (s *Store) loadProducts(ctx context.Context) ([]storify.Product, error) {
	return allProducts(ctx, s.reader)
}

// loadRows reads the products ids, for a patch of the catalog's copy after
// checkouts changed their stock.
func (s *Store) loadRows(ctx context.Context, ids []int64) ([]storify.Product, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return queryProducts(ctx, s.reader, `WHERE id IN (`+strings.Repeat(",?", len(ids))[1:]+`)`, args...)
}
