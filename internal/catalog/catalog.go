// Package catalog keeps an in-memory copy of a store's catalog for its backends:
// customers list the catalog more than they do anything else, and a few dozen
// products cost far less to share than to query. Both backends use it, so they
// agree on what a search finds and which names match.
package catalog

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/storify/storify"
)

// Snapshot is the whole catalog at one moment. It is never modified once made, so
// readers share it, and the slices it returns, without locks.
type Snapshot struct {
	version uint64            // Cache.version when its load began
	all     []storify.Product // every product, discontinued too, in catalog order
	listed  []storify.Product // the products on sale, in catalog order
	keys    []keys            // the folded name and description of each of all
	byName  map[string]int    // name key to index in all
	// categories are the categories of the listed products, by key; the slice
	// of each is its products in catalog order.
	categories []storify.Category
	inCategory map[string][]storify.Product
	indexHolder
}

type keys struct{ name, category string }

// New makes a snapshot of products, which must be in catalog order.
func New(products []storify.Product) *Snapshot {
	s := &Snapshot{all: products, keys: make([]keys, len(products)), byName: make(map[string]int, len(products)),
		inCategory: map[string][]storify.Product{}}
	names := map[string]string{} // category key to the name shown
	for i, p := range products {
		s.keys[i] = keys{storify.FoldKey(p.Name), storify.FoldKey(p.Category)}
		s.byName[s.keys[i].name] = i
		if !p.Discontinued {
			s.listed = append(s.listed, p)
			if k := s.keys[i].category; k != "" {
				s.inCategory[k] = append(s.inCategory[k], p)
				if _, ok := names[k]; !ok {
					names[k] = p.Category
				}
			}
		}
	}
	for k, ps := range s.inCategory {
		s.categories = append(s.categories, storify.Category{Name: names[k], Products: len(ps)})
	}
	slices.SortFunc(s.categories, func(a, b storify.Category) int {
		return cmp.Compare(storify.FoldKey(a.Name), storify.FoldKey(b.Name))
	})
	return s
}

// Categories answers storify.Store.Categories. The slice is shared.
func (s *Snapshot) Categories() []storify.Category { return s.categories }

// Products answers storify.Store.Products. The whole catalog, and a category's
// products on sale, are returned as they are, shared, not copied; a search makes
// a new slice, ranked (see search).
func (s *Snapshot) Products(filter storify.ProductFilter) []storify.Product {
	switch {
	case filter.Search != "":
		return s.search(filter)
	case filter.Category != "" && !filter.All:
		return s.inCategory[storify.FoldKey(strings.TrimSpace(filter.Category))]
	case filter.Category != "":
	case filter.All:
		return s.all
	default:
		return s.listed
	}
	catKey := storify.FoldKey(strings.TrimSpace(filter.Category))
	var ps []storify.Product
	for i, p := range s.all {
		if s.keys[i].category == catKey {
			ps = append(ps, p)
		}
	}
	return ps
}

// Product answers storify.Store.Product.
func (s *Snapshot) Product(id int64) (storify.Product, error) {
	i, ok := slices.BinarySearchFunc(s.all, id, func(p storify.Product, id int64) int {
		return cmp.Compare(p.ID, id)
	})
	if !ok {
		return storify.Product{}, storify.ErrNoProduct(id)
	}
	return s.all[i], nil
}

// ProductByName answers storify.Store.ProductByName: names compare as
// storify.FoldKey folds them, and surrounding spaces are ignored, as they are when a
// product is named.
func (s *Snapshot) ProductByName(name string) (storify.Product, error) {
	name = strings.TrimSpace(name)
	i, ok := s.byName[storify.FoldKey(name)]
	if !ok {
		return storify.Product{}, storify.Errorf(storify.ENOTFOUND, "no product is named %q", name)
	}
	return s.all[i], nil
}

// Cache holds the last snapshot loaded and says when it is stale.
//
// Everything that may change products calls Invalidate after it has committed and
// before anyone hears of it. Get reads the version before it loads, and a snapshot
// is used only if its load began at or after the version Get saw, so it is never
// used after an invalidation it may have missed: an invalidation before the version
// was read came after its commit, which the load then sees; one after it makes the
// snapshot stale at once.
type Cache struct {
	version atomic.Uint64
	current atomic.Pointer[Snapshot] // nil before the first load
	// loading is held (a token in it) by the one load at a time; the others wait
	// and share it, each giving up when its own context ends, so that a load that
	// hangs on a database that does not answer holds up no reader past its deadline.
	loading     chan struct{}
	loadingOnce sync.Once
}

// Invalidate marks the snapshot stale.
func (c *Cache) Invalidate() { c.version.Add(1) }

// Fresh returns the last snapshot if no change was invalidated since its load began,
// else nil; it never loads. A caller that serves most reads from memory uses it to
// skip what only a load needs (a deadline, say) before it calls Get.
func (c *Cache) Fresh() *Snapshot {
	v0 := c.version.Load()
	if snap := c.current.Load(); snap != nil && snap.version >= v0 {
		return snap
	}
	return nil
}

// Get returns a snapshot with every change invalidated before the call, loading one
// with load when the last is stale.
func (c *Cache) Get(ctx context.Context, load func(context.Context) ([]storify.Product, error)) (*Snapshot, error) {
	v0 := c.version.Load()
	if snap := c.current.Load(); snap != nil && snap.version >= v0 {
		return snap, nil
	}
	c.loadingOnce.Do(func() { c.loading = make(chan struct{}, 1) })
	select {
	case c.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.loading }()
	// A snapshot whose load began after this call did is as good as a new one: when
	// the catalog changes with every checkout, the readers that waited share one load
	// instead of each loading in turn.
	if snap := c.current.Load(); snap != nil && snap.version >= v0 {
		return snap, nil
	}
	v := c.version.Load()
	products, err := load(ctx)
	if err != nil {
		return nil, err
	}
	snap := New(products)
	snap.version = v
	snap.inherit(c.current.Load())
	c.current.Store(snap)
	return snap, nil
}
