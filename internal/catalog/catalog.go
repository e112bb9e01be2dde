// Package catalog keeps an in-memory copy of a store's catalog for its backends:
// customers list the catalog more than they do anything else, and a few dozen
// products cost far less to share than to query. Both backends use it, so they
// agree on what a search finds and which names match.
package catalog

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/storify/storify"
)

// Snapshot is the whole catalog at one moment. It is never modified once made, so
// readers share it, and the slices it returns, without locks.
//
// A snapshot made by a patch (a checkout changed some products' stock) shares its
// product slices with the one before it and keeps the products it changed beside
// them (changed): a patch costs what it changed, not a copy of every product, which
// at 100,000 products is what held a busy store to a couple of thousand checkouts a
// second. Whatever a snapshot hands out is as changed: a product, a page, a search;
// a whole list (Products) is made once, at the first call that wants one.
type Snapshot struct {
	version uint64            // Cache.version when its load began
	all     []storify.Product // every product, discontinued too, in catalog order
	listed  []storify.Product // the products on sale, in catalog order: all itself if every one is
	keys    []keys            // the folded name and description of each of all
	byName  map[string]int    // name key to index in all
	// categories are the categories of the listed products, by key; the slice
	// of each is its products in catalog order.
	categories []storify.Category
	inCategory map[string][]storify.Product
	// changed holds, by ID, the products whose stock changed since the slices
	// above were made (at most maxChanged of them), as they are now; nil if none.
	// Only their stock and units received differ from the slices' (patch).
	changed map[int64]storify.Product
	// whole is all, listed and inCategory with changed applied, once made; nil
	// until a whole list is asked for, and when changed is nil (they are the
	// slices above then).
	whole  atomic.Pointer[lists]
	making sync.Mutex // makes whole once
	indexHolder
}

// lists are a snapshot's lists of products.
type lists struct {
	all, listed []storify.Product
	inCategory  map[string][]storify.Product
}

// maxChanged is the most changed products a snapshot keeps beside its slices; a
// patch past it makes new slices, with the changes in them.
const maxChanged = 1024

type keys struct{ name, category string }

// New makes a snapshot of products, which must be in catalog order.
func New(products []storify.Product) *Snapshot {
	s := &Snapshot{all: products, keys: make([]keys, len(products)), byName: make(map[string]int, len(products)),
		inCategory: map[string][]storify.Product{}}
	names := map[string]string{} // category key to the name shown
	// When every product is on sale, the products on sale are the catalog itself:
	// one slice for a patch to copy.
	s.listed = products
	if slices.ContainsFunc(products, discontinued) {
		s.listed = slices.DeleteFunc(slices.Clone(products), discontinued)
	}
	for i, p := range products {
		s.keys[i] = keys{storify.FoldKey(p.Name), storify.FoldKey(p.Category)}
		s.byName[s.keys[i].name] = i
		if !p.Discontinued {
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

func discontinued(p storify.Product) bool { return p.Discontinued }

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
		return s.lists().inCategory[storify.FoldKey(strings.TrimSpace(filter.Category))]
	case filter.Category != "":
		return s.inAnyState(storify.FoldKey(strings.TrimSpace(filter.Category)))
	case filter.All:
		return s.lists().all
	default:
		return s.lists().listed
	}
}

// Page answers storify.Store.ProductsPage: Products(filter)[from:to], cut to
// what there is, and how many products Products(filter) has. It copies only the
// page.
func (s *Snapshot) Page(filter storify.ProductFilter, from, to int) ([]storify.Product, int) {
	var ps []storify.Product
	made := false // ps is a new slice, with changed applied
	switch {
	case filter.Search != "":
		ps, made = s.search(filter), true
	case filter.Category != "" && !filter.All:
		ps = s.inCategory[storify.FoldKey(strings.TrimSpace(filter.Category))]
	case filter.Category != "":
		ps, made = s.inAnyState(storify.FoldKey(strings.TrimSpace(filter.Category))), true
	case filter.All:
		ps = s.all
	default:
		ps = s.listed
	}
	from = min(max(from, 0), len(ps))
	to = min(max(to, from), len(ps))
	page := ps[from:to:to]
	if !made && s.changed != nil {
		page = slices.Clone(page)
		for i := range page {
			page[i] = s.current(page[i])
		}
	}
	return page, len(ps)
}

// inAnyState returns the products of the category catKey, discontinued too, in a
// new slice.
func (s *Snapshot) inAnyState(catKey string) []storify.Product {
	var ps []storify.Product
	for i, p := range s.all {
		if s.keys[i].category == catKey {
			ps = append(ps, s.current(p))
		}
	}
	return ps
}

// current returns p as the snapshot has it.
func (s *Snapshot) current(p storify.Product) storify.Product {
	if q, ok := s.changed[p.ID]; ok {
		return q
	}
	return p
}

// lists returns the snapshot's lists with changed applied, making them at the
// first call.
func (s *Snapshot) lists() lists {
	if s.changed == nil {
		return lists{all: s.all, listed: s.listed, inCategory: s.inCategory}
	}
	if l := s.whole.Load(); l != nil {
		return *l
	}
	s.making.Lock()
	defer s.making.Unlock()
	if l := s.whole.Load(); l != nil {
		return *l
	}
	l := s.applied(s.changed)
	s.whole.Store(l)
	return *l
}

// applied returns copies of the snapshot's lists with changed applied, sharing the
// products of every category none of changed is in.
func (s *Snapshot) applied(changed map[int64]storify.Product) *lists {
	l := &lists{all: slices.Clone(s.all), inCategory: maps.Clone(s.inCategory)}
	if len(s.listed) == len(s.all) {
		l.listed = l.all // every product is on sale: listed is all (New)
	} else {
		l.listed = slices.Clone(s.listed)
	}
	cloned := map[string]bool{}
	for id, p := range changed {
		i, ok := slices.BinarySearchFunc(l.all, id, byID)
		if !ok {
			continue // cannot be: patch takes only the products it has
		}
		l.all[i] = p
		if p.Discontinued {
			continue
		}
		if len(l.listed) < len(l.all) {
			if j, ok := slices.BinarySearchFunc(l.listed, id, byID); ok {
				l.listed[j] = p
			}
		}
		if k := s.keys[i].category; k != "" {
			if !cloned[k] {
				l.inCategory[k], cloned[k] = slices.Clone(l.inCategory[k]), true
			}
			if j, ok := slices.BinarySearchFunc(l.inCategory[k], id, byID); ok {
				l.inCategory[k][j] = p
			}
		}
	}
	return l
}

func byID(p storify.Product, id int64) int { return cmp.Compare(p.ID, id) }

// Product answers storify.Store.Product.
func (s *Snapshot) Product(id int64) (storify.Product, error) {
	i, ok := slices.BinarySearchFunc(s.all, id, byID)
	if !ok {
		return storify.Product{}, storify.ErrNoProduct(id)
	}
	return s.current(s.all[i]), nil
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
	return s.current(s.all[i]), nil
}

// Cache holds the last snapshot loaded and says when it is stale.
//
// Everything that may change products calls Invalidate (or, for a change of some
// products' stock only, Touched) after it has committed and before anyone hears of
// it. Get reads the version before it loads, and a snapshot is used only if its
// load began at or after the version Get saw, so it is never used after an
// invalidation it may have missed: an invalidation before the version was read came
// after its commit, which the load then sees; one after it makes the snapshot stale
// at once.
//
// When every change since the last snapshot was Touched, Get reads only those
// products' rows again and patches a copy of the last snapshot with them: after a
// checkout, a catalog of 100,000 products is not read whole for the sake of a few
// stock counts.
type Cache struct {
	version atomic.Uint64
	current atomic.Pointer[Snapshot] // nil before the first load
	// mu guards touched and full, and is held whenever version moves, so that a
	// load takes exactly the changes made before the version it reads.
	mu      sync.Mutex
	touched map[int64]struct{} // products Touched since current's load
	full    bool               // Invalidate was called since current's load
	stocks  map[int64]Stock    // the latest stock Stocked of each product since current's load
	// loading is held (a token in it) by the one load at a time; the others wait
	// and share it, each giving up when its own context ends, so that a load that
	// hangs on a database that does not answer holds up no reader past its deadline.
	loading     chan struct{}
	loadingOnce sync.Once

	// The version of each product's stock in current, for a backend that numbers
	// them (Stock): loaded holds those of its last whole load, by index in its
	// products (nil if it gave none, or none was made), and since holds those
	// changed since, by ID. Only the load holding loading uses them.
	loaded []int64
	since  map[int64]int64
}

// Stock is a product's stock as a committed write left it. Version numbers the
// changes of one product's stock in the order they were committed, so that a Stock
// told late (another instance's notice, say) never undoes a later one: of two, the
// higher version is the later.
type Stock struct {
	ID      int64
	Units   int
	Version int64
}

// Loader reads every product, in catalog order, with the version of each one's
// stock (Stock.Version) at the same index, or nil versions if the backend keeps none.
type Loader func(ctx context.Context) ([]storify.Product, []int64, error)

// RowLoader reads the products ids, in any order, with their versions as Loader
// gives them.
type RowLoader func(ctx context.Context, ids []int64) ([]storify.Product, []int64, error)

// Unversioned is the Loader of a backend that does not number the changes of stock.
func Unversioned(load func(context.Context) ([]storify.Product, error)) Loader {
	return func(ctx context.Context) ([]storify.Product, []int64, error) {
		ps, err := load(ctx)
		return ps, nil, err
	}
}

// UnversionedRows is the RowLoader of a backend that does not number the changes of
// stock.
func UnversionedRows(load func(context.Context, []int64) ([]storify.Product, error)) RowLoader {
	if load == nil {
		return nil
	}
	return func(ctx context.Context, ids []int64) ([]storify.Product, []int64, error) {
		ps, err := load(ctx, ids)
		return ps, nil, err
	}
}

// MaxTouched is the most products a patch reads again; past it, the whole catalog
// is read.
const MaxTouched = 256

// Invalidate marks the snapshot stale: the next Get reads the whole catalog.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.full, c.touched, c.stocks = true, nil, nil
	c.version.Add(1)
	c.mu.Unlock()
}

// Touched marks the snapshot stale for the stock of the products ids: the next
// Get reads their rows again. A change to anything else of a product (its name,
// its category, whether it is sold) must be an Invalidate.
func (c *Cache) Touched(ids ...int64) {
	c.mu.Lock()
	if !c.full {
		if c.touched == nil {
			c.touched = make(map[int64]struct{}, len(ids))
		}
		for _, id := range ids {
			c.touched[id] = struct{}{}
		}
		if len(c.touched) > MaxTouched {
			c.full, c.touched = true, nil
		}
	}
	c.version.Add(1)
	c.mu.Unlock()
}

// Stocked tells the cache the stock that committed writes left some products
// with, so that the next Get patches the last snapshot with them without reading
// the database: a product's Stock is taken if its version is later than the one
// the snapshot has (see Stock), and else ignored. Like Touched, it is for a change
// of stock only; and a backend that tells a product's stock must give versions
// with its loads, and number every change of its stock, or else follow a change it
// does not number by an Invalidate.
func (c *Cache) Stocked(stocks ...Stock) {
	c.mu.Lock()
	if !c.full {
		if c.stocks == nil {
			c.stocks = make(map[int64]Stock, len(stocks))
		}
		for _, st := range stocks {
			keepLater(c.stocks, st)
		}
	}
	c.version.Add(1)
	c.mu.Unlock()
}

// keepLater puts st into stocks unless stocks has a later stock of its product.
func keepLater(stocks map[int64]Stock, st Stock) {
	if old, ok := stocks[st.ID]; !ok || st.Version > old.Version {
		stocks[st.ID] = st
	}
}

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
// with load when the last is stale, or, when only some products were Touched and
// loadRows is not nil, reading those products with loadRows (by ID, in any order)
// and patching a copy of the last.
func (c *Cache) Get(ctx context.Context, load Loader, loadRows RowLoader) (*Snapshot, error) {
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
	// Take the changes made so far; those made from now on stay for the next load.
	c.mu.Lock()
	v := c.version.Load()
	touched, full, stocks := c.touched, c.full, c.stocks
	c.touched, c.full, c.stocks = nil, false, nil
	base := c.current.Load()
	c.mu.Unlock()
	snap, err := c.make(ctx, base, touched, full, stocks, load, loadRows)
	if err != nil {
		// Give the changes back: the next load must still see them.
		c.mu.Lock()
		if full || c.full {
			c.full, c.touched, c.stocks = true, nil, nil
		} else {
			if c.touched == nil {
				c.touched = touched
			} else {
				for id := range touched {
					c.touched[id] = struct{}{}
				}
			}
			if c.stocks == nil {
				c.stocks = stocks
			} else {
				for _, st := range stocks {
					keepLater(c.stocks, st)
				}
			}
		}
		c.mu.Unlock()
		return nil, err
	}
	snap.version = v
	c.current.Store(snap)
	return snap, nil
}

// make makes the snapshot that follows base after the changes given: the rows
// touched read again and the stocks told applied where they are later than what
// base has, or, if that cannot be (the whole catalog may have changed, or a
// product is new), the whole catalog read again, with the stocks told later than
// what it read applied.
func (c *Cache) make(ctx context.Context, base *Snapshot, touched map[int64]struct{}, full bool, stocks map[int64]Stock,
	load Loader, loadRows RowLoader) (*Snapshot, error) {
	if base != nil && !full && (len(touched) == 0 || loadRows != nil) {
		newer := map[int64]int64{} // the versions this patch changes
		var rows []storify.Product
		if len(touched) > 0 {
			ids := make([]int64, 0, len(touched))
			for id := range touched {
				ids = append(ids, id)
			}
			var vers []int64
			var err error
			if rows, vers, err = loadRows(ctx, ids); err != nil {
				return nil, err
			}
			for i, p := range rows {
				newer[p.ID] = versionAt(vers, i)
			}
		}
		if rows, ok := c.applyStocks(base, rows, stocks, newer); ok {
			if snap := base.patch(rows); snap != nil {
				if c.since == nil {
					c.since = newer
				} else {
					maps.Copy(c.since, newer)
				}
				return snap, nil
			}
		}
	}
	products, vers, err := load(ctx)
	if err != nil {
		return nil, err
	}
	c.loaded, c.since = vers, map[int64]int64{}
	cloned := false
	for id, st := range stocks {
		i, ok := slices.BinarySearchFunc(products, id, byID)
		if !ok || st.Version <= versionAt(vers, i) {
			continue // the load has it, or a later stock
		}
		if !cloned {
			products, cloned = slices.Clone(products), true
		}
		products[i].Stock = st.Units
		c.since[id] = st.Version
	}
	snap := New(products)
	snap.inherit(base)
	return snap, nil
}

// applyStocks returns rows (read again, their versions in newer) followed by the
// products of base for which stocks has a later stock than the snapshot's, with
// that stock, their versions set in newer. It reports false if a product of
// stocks is not in base: then the whole catalog must be read.
func (c *Cache) applyStocks(base *Snapshot, rows []storify.Product, stocks map[int64]Stock, newer map[int64]int64) ([]storify.Product, bool) {
	n := len(rows)
	for id, st := range stocks {
		if i := slices.IndexFunc(rows[:n], func(p storify.Product) bool { return p.ID == id }); i >= 0 {
			if st.Version > newer[id] {
				rows[i].Stock, newer[id] = st.Units, st.Version
			}
			continue
		}
		i, ok := slices.BinarySearchFunc(base.all, id, byID)
		if !ok {
			return nil, false
		}
		version, ok := c.since[id]
		if !ok {
			version = versionAt(c.loaded, i)
		}
		if st.Version > version {
			p := base.current(base.all[i])
			p.Stock = st.Units
			rows, newer[id] = append(rows, p), st.Version
		}
	}
	return rows, true
}

// versionAt returns vers[i], or 0 if the loader gave no versions.
func versionAt(vers []int64, i int) int64 {
	if i < len(vers) {
		return vers[i]
	}
	return 0
}

// patch returns the snapshot that follows s when the products in rows are as they
// are now, or nil if one of them changed more than its stock (or is new): then the
// whole catalog must be read. It shares s's slices, names, keys and search index,
// and keeps rows beside them, unless that makes more than maxChanged products:
// then it makes new slices with all the changes in them.
func (s *Snapshot) patch(rows []storify.Product) *Snapshot {
	for _, p := range rows {
		i, ok := slices.BinarySearchFunc(s.all, p.ID, byID)
		if !ok {
			return nil
		}
		if q := s.all[i]; q.Name != p.Name || q.Description != p.Description || q.Category != p.Category ||
			q.Discontinued != p.Discontinued || q.Price != p.Price {
			return nil
		}
	}
	changed := make(map[int64]storify.Product, len(s.changed)+len(rows))
	maps.Copy(changed, s.changed)
	for _, p := range rows {
		changed[p.ID] = p
	}
	n := &Snapshot{all: s.all, listed: s.listed, keys: s.keys, byName: s.byName, categories: s.categories,
		inCategory: s.inCategory, changed: changed}
	if len(changed) > maxChanged {
		l := s.applied(changed)
		n.all, n.listed, n.inCategory, n.changed = l.all, l.listed, l.inCategory, nil
	}
	if ix := s.index.Load(); ix != nil {
		n.index.Store(ix) // the same names and descriptions, in the same order
	}
	return n
}
