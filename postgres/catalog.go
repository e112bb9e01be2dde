package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// catalogCopy is the in-memory copy of the products table (see the package comment for
// how it stays true across instances). Reads are served from the copy, which is read
// again from the database on the first read after anything invalidated it.
//
// Everything that may make the copy stale calls invalidate: a write through this
// Store once it has committed and before its caller hears of it, the listener on
// every notification from another instance and whenever it connects or loses its
// connection. catalog.Cache never serves a copy loaded before an invalidation it
// may have missed.
//
// A read first waits at the barrier, until the listener has heard of every change
// committed up to readWindow before the read began (at once, mostly: see barrier.go);
// while the listener is not connected nothing invalidates the copy when other
// instances write, so the barrier turns the read away and it loads the catalog from
// the database instead.
type catalogCopy struct {
	cache   catalog.Cache // the copy and its version (internal/catalog)
	barrier barrier       // the listener's round trips that reads wait for
}

// invalidate marks the copy stale.
func (c *catalogCopy) invalidate() { c.cache.Invalidate() }

// snapshot returns the catalog as it was at some moment during the call: it has
// every change committed before the call began through this Store, and through any
// other before readWindow earlier.
// The wait at the barrier, the wait for another reader's load and the load itself
// all come out of the call's budget. The common case, a wait at the barrier and a
// fresh copy, sets no timer: the listener's ping that ends the wait has its own
// (pingTimeout, at most half the budget), and a timer per read cost reads that share
// one ping more than the rest of the read (BenchmarkProductsParallel, 2 -> 5.5 us).
func (s *Store) snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	deadline := time.Now().Add(s.timeout)
	heard, err := s.catalog.barrier.wait(ctx)
	if err != nil {
		return nil, unreachable(ctx, err)
	}
	if heard {
		if snap := s.catalog.cache.Fresh(); snap != nil {
			return snap, nil
		}
	}
	return s.load(ctx, deadline, heard)
}

// load is snapshot when the copy will not do: from the database, into the copy if the
// barrier was heard, else for this read alone.
func (s *Store) load(ctx context.Context, deadline time.Time, heard bool) (_ *catalog.Snapshot, err error) {
	parent := ctx
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	defer func() { err = unreachable(parent, err) }()
	if !heard {
		ps, _, err := s.loadProducts(ctx)
		if err != nil {
			return nil, err
		}
		return catalog.New(ps), nil
	}
	return s.catalog.cache.Get(ctx, s.loadProducts, s.loadRows)
}

// loadProducts reads every product, in one statement so that the copy is one
// consistent snapshot of the table.
func (s *Store) loadProducts(ctx context.Context) ([]storify.Product, []int64, error) {
	s.fullLoads.Add(1)
	return s.queryProducts(ctx, `ORDER BY id`)
}

// loadRows reads the products ids, for a patch of the copy after checkouts, here or
// on another instance, changed their stock.
func (s *Store) loadRows(ctx context.Context, ids []int64) ([]storify.Product, []int64, error) {
	s.rowLoads.Add(1)
	return s.queryProducts(ctx, `WHERE id = ANY($1::bigint[])`, ids)
}

// queryProducts reads the products that the rest of the statement, where, selects,
// and their stock_version.
func (s *Store) queryProducts(ctx context.Context, where string, args ...any) ([]storify.Product, []int64, error) {
	var ps []storify.Product
	var vers []int64
	err := s.read(ctx, func(c querier) error {
		ps, vers = ps[:0], vers[:0]
		rows, _ := c.Query(ctx, `SELECT `+productColumns+`, stock_version FROM products `+where, args...)
		var p storify.Product
		var v int64
		_, err := pgx.ForEachRow(rows, []any{&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued, &p.Category, &v},
			func() error {
				ps, vers = append(ps, p), append(vers, v)
				return nil
			})
		if err != nil {
			return fmt.Errorf("postgres: read the catalog: %w", err)
		}
		return nil
	})
	return ps, vers, err
}
