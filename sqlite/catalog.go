package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/storify/storify"
)

// catalog is an in-memory copy of the products table. Listing the catalog is the
// commonest thing customers do, and a few dozen products cost far less to copy than
// to query; so reads are served from the copy, and the copy is read again from the
// database on the first read after a write that changed products.
//
// Writes call invalidate after they commit and before their caller hears of them.
// A read loads the version before querying, and the copy is used only while the
// version is unchanged, so a copy is never used after a write it may have missed:
// a write whose invalidate came before the version was loaded had committed before
// the query began; one whose invalidate came after makes the copy stale at once.
type catalog struct {
	version atomic.Uint64                   // bumped by every write that may change products
	current atomic.Pointer[catalogSnapshot] // the last copy loaded; nil before the first
	loading sync.Mutex                      // one load at a time: the others wait and share it
}

// catalogSnapshot is the whole catalog at one moment. It is never modified once
// stored, so readers share it without locks.
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

// snapshot returns a copy of the catalog that has every write whose invalidate
// happened before the call.
func (c *catalog) snapshot(ctx context.Context, db queryer) (*catalogSnapshot, error) {
	if snap := c.current.Load(); snap != nil && snap.version == c.version.Load() {
		return snap, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	v := c.version.Load()
	if snap := c.current.Load(); snap != nil && snap.version == v {
		return snap, nil // loaded by another reader while this one waited
	}
	snap, err := loadCatalog(ctx, db)
	if err != nil {
		return nil, err
	}
	snap.version = v
	c.current.Store(snap)
	return snap, nil
}

// loadCatalog reads every product, in one statement so that the copy is one
// consistent snapshot of the table.
func loadCatalog(ctx context.Context, db queryer) (*catalogSnapshot, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+productColumns+`, name_key, description_key FROM products ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
	}
	defer rows.Close()
	snap := &catalogSnapshot{byName: map[string]int{}}
	for rows.Next() {
		var p storify.Product
		var k productKeys
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued,
			&k.name, &k.description); err != nil {
			return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
		}
		snap.byName[k.name] = len(snap.products)
		snap.products = append(snap.products, p)
		snap.keys = append(snap.keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read the catalog: %w", err)
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
