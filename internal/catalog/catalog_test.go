package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

func TestSnapshot(t *testing.T) {
	snap := catalog.New([]storify.Product{
		{ID: 1, Name: "Blue Mug", Description: "Stoneware."},
		{ID: 2, Name: "Crème Brûlée Set", Description: "Six ramekins.", Discontinued: true},
		{ID: 4, Name: "Notebook", Description: "Dotted, with a blue cover."},
	})
	if ps := snap.Products(storify.ProductFilter{}); len(ps) != 2 || ps[1].ID != 4 {
		t.Errorf("listed = %v", ps)
	}
	if ps := snap.Products(storify.ProductFilter{All: true}); len(ps) != 3 {
		t.Errorf("all = %v", ps)
	}
	if ps := snap.Products(storify.ProductFilter{Search: "BLUE"}); len(ps) != 2 {
		t.Errorf("search BLUE = %v, want the mug and the notebook", ps)
	}
	if ps := snap.Products(storify.ProductFilter{Search: "crème", All: true}); len(ps) != 1 {
		t.Errorf("search crème = %v", ps)
	}
	if p, err := snap.ProductByName("  CRÈME brûlée set "); err != nil || p.ID != 2 {
		t.Errorf("by name = %v, %v", p, err)
	}
	if _, err := snap.Product(3); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("product 3: %v", err)
	}
	if _, err := snap.ProductByName("Mug"); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("by name Mug: %v", err)
	}
}

func TestCacheReloadsAfterInvalidate(t *testing.T) {
	var c catalog.Cache
	loads := 0
	price := storify.Cents(100)
	load := func(context.Context) ([]storify.Product, error) {
		loads++
		return []storify.Product{{ID: 1, Name: "Mug", Price: price}}, nil
	}
	get := func() storify.Cents {
		snap, err := c.Get(context.Background(), catalog.Unversioned(load), nil)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := snap.Product(1)
		return p.Price
	}
	get()
	get()
	if loads != 1 {
		t.Errorf("%d loads for two reads of an unchanged catalog", loads)
	}
	price = 250
	c.Invalidate()
	if got := get(); got != 250 || loads != 2 {
		t.Errorf("after Invalidate: price %s, %d loads", got, loads)
	}
}

// A reader waiting for another's load gives up when its own context ends, even while
// that load hangs (a database that does not answer), and the load, once it returns,
// serves the readers that come after.
func TestGetWaitsWithItsOwnContext(t *testing.T) {
	var c catalog.Cache
	release := make(chan struct{})
	started := make(chan struct{})
	loaded := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), catalog.Unversioned(func(context.Context) ([]storify.Product, error) {
			close(started)
			<-release
			return []storify.Product{{ID: 1, Name: "Blue Mug"}}, nil
		}), nil)
		loaded <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, catalog.Unversioned(func(context.Context) ([]storify.Product, error) {
		t.Error("second load ran while the first held the lock")
		return nil, nil
	}), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get while another load hangs = %v, want %v", err, context.DeadlineExceeded)
	}
	close(release)
	if err := <-loaded; err != nil {
		t.Fatalf("first load: %v", err)
	}
	snap, err := c.Get(context.Background(), catalog.Unversioned(func(context.Context) ([]storify.Product, error) {
		return nil, errors.New("not wanted: the snapshot is fresh")
	}), nil)
	if err != nil || len(snap.Products(storify.ProductFilter{})) != 1 {
		t.Errorf("Get after the load = %v, %v; want the loaded snapshot", snap, err)
	}
}

// After checkouts (Touched), the next read reads only the products they changed and
// patches a copy of the snapshot: the stock is new, the rest (names, categories, the
// search index) is the last snapshot's. A product that changed more than its stock
// makes it read the whole catalog after all, and so does Invalidate.
func TestCachePatchesTouchedProducts(t *testing.T) {
	var c catalog.Cache
	db := []storify.Product{
		{ID: 1, Name: "Blue Mug", Stock: 5, Category: "Mugs"},
		{ID: 2, Name: "Red Mug", Stock: 5, Category: "Mugs"},
		{ID: 3, Name: "Pen", Stock: 5, Discontinued: true},
	}
	fulls, rowReads := 0, 0
	load := func(context.Context) ([]storify.Product, error) {
		fulls++
		return slices.Clone(db), nil
	}
	loadRows := func(_ context.Context, ids []int64) ([]storify.Product, error) {
		rowReads++
		var ps []storify.Product
		for _, id := range ids {
			ps = append(ps, db[id-1])
		}
		return ps, nil
	}
	get := func() *catalog.Snapshot {
		t.Helper()
		snap, err := c.Get(context.Background(), catalog.Unversioned(load), catalog.UnversionedRows(loadRows))
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	get().Products(storify.ProductFilter{Search: "mug"}) // builds the search index
	db[1].Stock = 2
	c.Touched(2)
	snap := get()
	if fulls != 1 || rowReads != 1 {
		t.Errorf("after a checkout: %d full loads, %d row reads; want 1 and 1", fulls, rowReads)
	}
	if p, _ := snap.Product(2); p.Stock != 2 {
		t.Errorf("Red Mug's stock = %d, want 2", p.Stock)
	}
	if ps := snap.Products(storify.ProductFilter{Category: "mugs"}); len(ps) != 2 || ps[1].Stock != 2 {
		t.Errorf("the category's products = %+v", ps)
	}
	if ps := snap.Products(storify.ProductFilter{}); len(ps) != 2 || ps[1].Stock != 2 {
		t.Errorf("the products on sale = %+v", ps)
	}
	if ps := snap.Products(storify.ProductFilter{Search: "red"}); len(ps) != 1 || ps[0].Stock != 2 {
		t.Errorf("search red = %+v", ps)
	}
	db[0].Name = "Big Blue Mug" // renamed, and touched as if only its stock changed
	c.Touched(1)
	if p, _ := get().ProductByName("big blue mug"); p.ID != 1 || fulls != 2 {
		t.Errorf("after a change beyond the stock: %+v, %d full loads; want the whole catalog read", p, fulls)
	}
	db[0].Stock = 1
	c.Touched(1)
	c.Invalidate()
	if p, _ := get().Product(1); p.Stock != 1 || fulls != 3 {
		t.Errorf("after Touched and Invalidate: stock %d, %d full loads", p.Stock, fulls)
	}
}

// A stock told (Stocked) is taken without reading the database, and only if it is
// later than the one the snapshot has, whether that came from a whole load, a row
// read again or a stock told before: a notice that arrives late never undoes a
// later stock. A product the snapshot does not have makes it read the catalog.
func TestCacheTakesTheLatestStockTold(t *testing.T) {
	var c catalog.Cache
	db := []storify.Product{{ID: 1, Name: "Blue Mug", Stock: 9, Category: "Mugs"}, {ID: 2, Name: "Red Mug", Stock: 5, Category: "Mugs"}}
	vers := []int64{7, 3} // stock_version of each, as the database has it
	fulls, rowReads := 0, 0
	load := func(context.Context) ([]storify.Product, []int64, error) {
		fulls++
		return slices.Clone(db), slices.Clone(vers), nil
	}
	loadRows := func(_ context.Context, ids []int64) ([]storify.Product, []int64, error) {
		rowReads++
		var ps []storify.Product
		var vs []int64
		for _, id := range ids {
			ps, vs = append(ps, db[id-1]), append(vs, vers[id-1])
		}
		return ps, vs, nil
	}
	stock := func(id int64) int {
		t.Helper()
		snap, err := c.Get(context.Background(), load, loadRows)
		if err != nil {
			t.Fatal(err)
		}
		p, err := snap.Product(id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Category != "" {
			if ps := snap.Products(storify.ProductFilter{Category: p.Category}); ps[id-1].Stock != p.Stock {
				t.Errorf("product %d: %d in stock, %d in its category", id, p.Stock, ps[id-1].Stock)
			}
		}
		return p.Stock
	}
	stock(1)
	steps := []struct {
		what   string
		tell   func()
		id     int64
		want   int
		fulls  int
		rowsRd int
	}{
		{"a later stock", func() { c.Stocked(catalog.Stock{ID: 1, Units: 8, Version: 8}) }, 1, 8, 1, 0},
		{"an earlier one, late", func() { c.Stocked(catalog.Stock{ID: 1, Units: 10, Version: 6}) }, 1, 8, 1, 0},
		{"the same one again", func() { c.Stocked(catalog.Stock{ID: 1, Units: 8, Version: 8}) }, 1, 8, 1, 0},
		{"one older than the load", func() { c.Stocked(catalog.Stock{ID: 2, Units: 6, Version: 3}) }, 2, 5, 1, 0},
		{"two told at once, in either order", func() {
			c.Stocked(catalog.Stock{ID: 2, Units: 3, Version: 5}, catalog.Stock{ID: 2, Units: 4, Version: 4})
		}, 2, 3, 1, 0},
		{"a row read again, then a stock told older than it", func() {
			db[0].Stock, vers[0] = 20, 10 // restocked
			c.Touched(1)
			c.Stocked(catalog.Stock{ID: 1, Units: 7, Version: 9})
		}, 1, 20, 1, 1},
		{"a stock told later than the row read", func() {
			db[0].Stock, vers[0] = 19, 11
			c.Touched(1)
			c.Stocked(catalog.Stock{ID: 1, Units: 18, Version: 12})
		}, 1, 18, 1, 2},
		{"a whole load, then a stock told older than it", func() {
			db[1].Stock, vers[1] = 40, 9
			c.Invalidate()
			c.Stocked(catalog.Stock{ID: 2, Units: 2, Version: 6})
		}, 2, 40, 2, 2},
		{"a product the snapshot has not", func() {
			db = append(db, storify.Product{ID: 3, Name: "Pen", Stock: 4})
			vers = append(vers, 1)
			c.Stocked(catalog.Stock{ID: 3, Units: 3, Version: 2}, catalog.Stock{ID: 1, Units: 99, Version: 5})
		}, 3, 3, 3, 2},
		{"and a stock told with it, older than that load", func() {}, 1, 19, 3, 2},
	}
	for _, st := range steps {
		st.tell()
		if got := stock(st.id); got != st.want || fulls != st.fulls || rowReads != st.rowsRd {
			t.Errorf("%s: product %d has %d in stock after %d whole loads and %d row reads; want %d, %d, %d",
				st.what, st.id, got, fulls, rowReads, st.want, st.fulls, st.rowsRd)
		}
	}
}

// A patch makes a new snapshot and leaves the one before it as it was, whether or
// not every product is on sale (then the products on sale are the catalog itself,
// one slice to copy).
func TestCachePatchLeavesTheSnapshotBefore(t *testing.T) {
	for _, discontinued := range []bool{false, true} {
		var c catalog.Cache
		db := []storify.Product{{ID: 1, Name: "Blue Mug", Stock: 5}, {ID: 2, Name: "Red Mug", Stock: 5}, {ID: 3, Name: "Pen", Stock: 5, Discontinued: discontinued}}
		get := getter(t, &c, &db)
		before := get()
		db[1].Stock = 2
		c.Touched(2)
		after := get()
		onSale := 3
		if discontinued {
			onSale = 2
		}
		for name, snap := range map[string]*catalog.Snapshot{"before": before, "after": after} {
			want := 5
			if name == "after" {
				want = 2
			}
			listed, all := snap.Products(storify.ProductFilter{}), snap.Products(storify.ProductFilter{All: true})
			if len(listed) != onSale || len(all) != 3 || listed[1].Stock != want || all[1].Stock != want {
				t.Errorf("discontinued %v: the snapshot %s the checkout lists %+v on sale and %+v in all; want Red Mug's stock %d",
					discontinued, name, listed, all, want)
			}
			if p, _ := snap.ProductByName("red mug"); p.Stock != want {
				t.Errorf("discontinued %v: the snapshot %s the checkout has Red Mug's stock %d, want %d", discontinued, name, p.Stock, want)
			}
		}
	}
}

// getter returns a function that gets c's snapshot of *db (product ID i at
// index i-1), as a store's full loads and row reads would read it.
func getter(t *testing.T, c *catalog.Cache, db *[]storify.Product) func() *catalog.Snapshot {
	load := func(context.Context) ([]storify.Product, error) { return slices.Clone(*db), nil }
	loadRows := func(_ context.Context, ids []int64) ([]storify.Product, error) {
		var ps []storify.Product
		for _, id := range ids {
			ps = append(ps, (*db)[id-1])
		}
		return ps, nil
	}
	return func() *catalog.Snapshot {
		t.Helper()
		snap, err := c.Get(context.Background(), catalog.Unversioned(load), catalog.UnversionedRows(loadRows))
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
}

// A busy store's checkouts change the stock of many products, one patch after
// another: every product, page, category list and search shows the stock as it is
// now, past the point where the snapshot stops keeping the changed products beside
// its lists and makes new ones.
func TestCacheManyPatches(t *testing.T) {
	var c catalog.Cache
	const n = 3000
	db := make([]storify.Product, n)
	for i := range db {
		db[i] = storify.Product{ID: int64(i + 1), Name: fmt.Sprintf("Mug %04d", i+1), Stock: 100, Received: 100,
			Category: fmt.Sprintf("Shelf %d", i%3), Discontinued: i%10 == 9}
	}
	get := getter(t, &c, &db)
	check := func(when string, snap *catalog.Snapshot) {
		t.Helper()
		var listed []storify.Product
		for _, p := range db {
			if !p.Discontinued {
				listed = append(listed, p)
			}
		}
		if all := snap.Products(storify.ProductFilter{All: true}); !slices.Equal(all, db) {
			t.Fatalf("%s: Products{All} differs from the database", when)
		}
		if got := snap.Products(storify.ProductFilter{}); !slices.Equal(got, listed) {
			t.Fatalf("%s: Products differs from the products on sale", when)
		}
		if page, total := snap.Page(storify.ProductFilter{}, 100, 120); total != len(listed) || !slices.Equal(page, listed[100:120]) {
			t.Fatalf("%s: Page(100, 120) = %v of %d, want %v of %d", when, page, total, listed[100:120], len(listed))
		}
		var shelf []storify.Product
		for _, p := range listed {
			if p.Category == "Shelf 1" {
				shelf = append(shelf, p)
			}
		}
		if got := snap.Products(storify.ProductFilter{Category: "shelf 1"}); !slices.Equal(got, shelf) {
			t.Fatalf("%s: Products{Category} differs", when)
		}
		if page, total := snap.Page(storify.ProductFilter{Category: "Shelf 1"}, 0, 5); total != len(shelf) || !slices.Equal(page, shelf[:5]) {
			t.Fatalf("%s: Page{Category}(0, 5) = %v of %d, want %v", when, page, total, shelf[:5])
		}
		for _, id := range []int64{1, 2, 500, n} {
			if p, _ := snap.Product(id); p != db[id-1] {
				t.Fatalf("%s: Product(%d) = %+v, want %+v", when, id, p, db[id-1])
			}
			if p, _ := snap.ProductByName(db[id-1].Name); p != db[id-1] {
				t.Fatalf("%s: ProductByName(%q) = %+v, want %+v", when, db[id-1].Name, p, db[id-1])
			}
			if ps := snap.Products(storify.ProductFilter{Search: db[id-1].Name, All: true}); len(ps) == 0 || ps[0] != db[id-1] {
				t.Fatalf("%s: search %q = %v, want %+v first", when, db[id-1].Name, ps, db[id-1])
			}
		}
	}
	check("first", get())
	var before *catalog.Snapshot
	var beforeDB []storify.Product
	for round := range 1200 { // past the products a snapshot keeps beside its lists
		id := int64(round*7%n + 1)
		db[id-1].Stock--
		db[id-1].Received++
		c.Touched(id)
		snap := get()
		if round%200 == 0 || round == 1199 {
			check(fmt.Sprintf("patch %d", round), snap)
		}
		if round == 600 {
			before, beforeDB = snap, slices.Clone(db)
		}
	}
	if all := before.Products(storify.ProductFilter{All: true}); !slices.Equal(all, beforeDB) {
		t.Errorf("a snapshot changed after later patches")
	}
}

// A failed read of the touched rows leaves them to the next read: nothing Touched
// is forgotten.
func TestCacheKeepsTouchedAfterAFailedRead(t *testing.T) {
	var c catalog.Cache
	db := []storify.Product{{ID: 1, Name: "Mug", Stock: 5}, {ID: 2, Name: "Pen", Stock: 5}}
	load := func(context.Context) ([]storify.Product, error) { return slices.Clone(db), nil }
	fail := true
	loadRows := func(_ context.Context, ids []int64) ([]storify.Product, error) {
		if fail {
			return nil, errors.New("database away")
		}
		var ps []storify.Product
		for _, id := range ids {
			ps = append(ps, db[id-1])
		}
		return ps, nil
	}
	if _, err := c.Get(context.Background(), catalog.Unversioned(load), catalog.UnversionedRows(loadRows)); err != nil {
		t.Fatal(err)
	}
	db[0].Stock, db[1].Stock = 4, 3
	c.Touched(1)
	if _, err := c.Get(context.Background(), catalog.Unversioned(load), catalog.UnversionedRows(loadRows)); err == nil {
		t.Fatal("Get with the database away succeeded")
	}
	c.Touched(2)
	fail = false
	snap, err := c.Get(context.Background(), catalog.Unversioned(load), catalog.UnversionedRows(loadRows))
	if err != nil {
		t.Fatal(err)
	}
	if p1, _ := snap.Product(1); p1.Stock != 4 {
		t.Errorf("Mug's stock = %d after the failed read, want 4", p1.Stock)
	}
	if p2, _ := snap.Product(2); p2.Stock != 3 {
		t.Errorf("Pen's stock = %d, want 3", p2.Stock)
	}
}
