package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// catalog is an in-memory copy of the products table (see the package comment for
// how it stays true across instances). Reads are served from the copy, which is read
// again from the database on the first read after anything invalidated it.
//
// Everything that may make the copy stale calls invalidate: a write through this
// Store once it has committed and before its caller hears of it, the listener on
// every notification from another instance and whenever it connects or loses its
// connection. A load reads the version before it queries, and a copy is used only
// while the version is unchanged, so a copy is never used after an invalidation it
// may have missed: an invalidation before the version was read came after its commit,
// which the query then sees; one after it makes the copy stale at once.
//
// A read first waits at the barrier, until the listener has heard of every change
// committed before the read began; while the listener is not connected nothing
// invalidates the copy when other instances write, so the barrier turns the read away
// and it loads the catalog from the database instead.
type catalog struct {
	version atomic.Uint64                   // bumped by everything that may change products
	current atomic.Pointer[catalogSnapshot] // the last copy loaded; nil before the first
	loading sync.Mutex                      // one load at a time: the others wait and share it
	barrier barrier                         // the listener's round trips that reads wait for
}

// catalogSnapshot is the whole catalog at one moment. It is never modified once
// made, so readers share it, and the slices in it, without locks.
type catalogSnapshot struct {
	version  uint64            // catalog.version when the load began
	products []storify.Product // every product, discontinued too, in catalog order
	listed   []storify.Product // the products on sale, in catalog order
	keys     []productKeys     // the folded name and description of each product
	byName   map[string]int    // name key to index in products
}

type productKeys struct{ name, description string }

// invalidate marks the copy stale.
func (c *catalog) invalidate() { c.version.Add(1) }

// snapshot returns the catalog as it was at some moment during the call: it has
// every change committed before the call began, through this Store or any other.
// load reads the catalog from the database.
func (c *catalog) snapshot(ctx context.Context, load func(context.Context) (*catalogSnapshot, error)) (*catalogSnapshot, error) {
	heard, err := c.barrier.wait(ctx)
	if err != nil {
		return nil, err
	}
	if !heard {
		return load(ctx)
	}
	v0 := c.version.Load()
	if snap := c.current.Load(); snap != nil && snap.version == v0 {
		return snap, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	// A copy whose load began after this call did is as good as a new one: when the
	// catalog changes with every checkout, the readers that waited share one load
	// instead of each loading in turn.
	if snap := c.current.Load(); snap != nil && snap.version >= v0 {
		return snap, nil
	}
	v := c.version.Load()
	snap, err := load(ctx)
	if err != nil {
		return nil, err
	}
	snap.version = v
	c.current.Store(snap)
	return snap, nil
}

// loadCatalog reads every product, in one statement so that the copy is one
// consistent snapshot of the table.
func (s *Store) loadCatalog(ctx context.Context) (*catalogSnapshot, error) {
	var snap *catalogSnapshot
	err := s.read(ctx, func(c querier) error {
		snap = &catalogSnapshot{byName: map[string]int{}}
		rows, _ := c.Query(ctx, `SELECT `+productColumns+`, name_key, description_key FROM products ORDER BY id`)
		var p storify.Product
		var k productKeys
		_, err := pgx.ForEachRow(rows, []any{&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued,
			&k.name, &k.description}, func() error {
			snap.byName[k.name] = len(snap.products)
			snap.products = append(snap.products, p)
			snap.keys = append(snap.keys, k)
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: read the catalog: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range snap.products {
		if !p.Discontinued {
			snap.listed = append(snap.listed, p)
		}
	}
	return snap, nil
}

// byID returns the product with this catalog number.
func (snap *catalogSnapshot) byID(id int64) (storify.Product, bool) {
	i, ok := slices.BinarySearchFunc(snap.products, id, func(p storify.Product, id int64) int {
		return cmp.Compare(p.ID, id)
	})
	if !ok {
		return storify.Product{}, false
	}
	return snap.products[i], true
}
