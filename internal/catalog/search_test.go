package catalog_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

func TestSearchKey(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"Crème Brûlée", "creme brulee"},
		{"CRÈME", "crème"},
		{"Ǆ", "ǆ"},           // a letter whose cases are three
		{"Straße", "STRAßE"}, // ß is its own letter, as FoldKey keeps it
	} {
		if ka, kb := catalog.SearchKey(tt.a), catalog.SearchKey(tt.b); ka != kb {
			t.Errorf("SearchKey(%q) = %q, SearchKey(%q) = %q; want equal", tt.a, ka, tt.b, kb)
		}
	}
	if catalog.SearchKey("mug") == catalog.SearchKey("mag") {
		t.Error("SearchKey folds different letters together")
	}
}

func TestSearchRanksAndFilters(t *testing.T) {
	snap := catalog.New([]storify.Product{
		{ID: 1, Name: "Coaster", Description: "under mugs", Category: "Kitchen"},
		{ID: 2, Name: "Mugwort", Description: "herb"},
		{ID: 3, Name: "Blue Mug", Description: "stoneware", Category: "Kitchen"},
		{ID: 4, Name: "Old Mug", Description: "chipped", Discontinued: true},
	})
	ids := func(ps []storify.Product) string {
		var s []int64
		for _, p := range ps {
			s = append(s, p.ID)
		}
		return fmt.Sprint(s)
	}
	for _, tt := range []struct {
		f    storify.ProductFilter
		want string
	}{
		{storify.ProductFilter{Search: "mug"}, "[3 2 1]"},
		{storify.ProductFilter{Search: "mug", All: true}, "[3 4 2 1]"},
		{storify.ProductFilter{Search: "mug", Category: "KITCHEN"}, "[3 1]"},
		{storify.ProductFilter{Search: "ug"}, "[2 3 1]"}, // all parts: name parts first, catalog order
		{storify.ProductFilter{Search: "!!"}, "[]"},
	} {
		if got := ids(snap.Products(tt.f)); got != tt.want {
			t.Errorf("Products(%+v) = %s, want %s", tt.f, got, tt.want)
		}
	}
	if got := snap.Suggest("stonewre"); got != "stoneware" {
		t.Errorf("Suggest(stonewre) = %q", got)
	}
}

// bigCatalog makes n products named as a shop's might be: a few hundred
// distinct words, a serial number each.
func bigCatalog(n int) []storify.Product {
	adj := []string{"Blue", "Red", "Green", "Large", "Small", "Steel", "Oak", "Glass", "Linen", "Copper", "Matte", "Crème"}
	noun := []string{"Mug", "Plate", "Bowl", "Lamp", "Pen", "Notebook", "Chair", "Towel", "Kettle", "Vase", "Basket", "Clock"}
	ps := make([]storify.Product, n)
	for i := range ps {
		ps[i] = storify.Product{
			ID:          int64(i + 1),
			Name:        fmt.Sprintf("%s %s %s-%d", adj[i%len(adj)], adj[(i/7)%len(adj)], noun[(i/3)%len(noun)], i+1),
			Description: fmt.Sprintf("A %s %s for every day, model %d.", adj[(i/11)%len(adj)], noun[(i/13)%len(noun)], i*7%100000),
			Price:       storify.Cents(100 + i%5000), Stock: 10 + i%90, Received: 100,
		}
	}
	return ps
}

// BenchmarkSearch measures a search of the in-memory catalog at 20 and at
// 100,000 products: a rare word (one product), a common one (a twelfth of
// them), a part of a word, and a typo's suggestion.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{20, 100_000} {
		snap := catalog.New(bigCatalog(n))
		snap.Products(storify.ProductFilter{Search: "x"}) // build the index outside the timing
		rare := fmt.Sprintf("%d", n/2+1)
		for _, q := range []struct{ name, text string }{{"rare", rare}, {"common", "lamp"}, {"part", "amp"}} {
			b.Run(fmt.Sprintf("%s/%d", q.name, n), func(b *testing.B) {
				for b.Loop() {
					if len(snap.Products(storify.ProductFilter{Search: q.text})) == 0 {
						b.Fatal("nothing found")
					}
				}
			})
		}
		b.Run(fmt.Sprintf("typo/%d", n), func(b *testing.B) {
			for b.Loop() {
				if snap.Suggest("lmap") != "lamp" {
					b.Fatal("no suggestion")
				}
			}
		})
	}
}

// BenchmarkIndex measures making a snapshot and building its search index (done
// at the first search after names or descriptions change), and reports the heap
// the snapshot and its index hold beyond the products themselves.
func BenchmarkIndex(b *testing.B) {
	for _, n := range []int{20, 100_000} {
		ps := bigCatalog(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				catalog.New(ps).Products(storify.ProductFilter{Search: "x"})
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			snap := catalog.New(ps)
			snap.Products(storify.ProductFilter{Search: "x"})
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(snap)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "heap-bytes")
		})
	}
}

// A snapshot made after a change of stock only keeps the search index of the one
// before; one made after a rename does not, and finds the new name.
func TestIndexInheritedOnlyWhenTextIsSame(t *testing.T) {
	var c catalog.Cache
	ps := []storify.Product{{ID: 1, Name: "Blue Mug", Stock: 5}, {ID: 2, Name: "Red Pen", Stock: 5}}
	load := func(context.Context) ([]storify.Product, error) { return slices.Clone(ps), nil }
	get := func() *catalog.Snapshot {
		t.Helper()
		snap, err := c.Get(context.Background(), catalog.Unversioned(load), nil)
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	if got := get().Products(storify.ProductFilter{Search: "mug"}); len(got) != 1 {
		t.Fatalf("search mug: %v", got)
	}
	ps[0].Stock = 4
	c.Invalidate()
	if got := get().Products(storify.ProductFilter{Search: "mug"}); len(got) != 1 || got[0].Stock != 4 {
		t.Errorf("after a stock change, search mug = %v, want the mug with 4 in stock", got)
	}
	ps[0].Name = "Green Cup"
	c.Invalidate()
	snap := get()
	if got := snap.Products(storify.ProductFilter{Search: "mug"}); len(got) != 0 {
		t.Errorf("after a rename, search mug = %v, want nothing", got)
	}
	if got := snap.Products(storify.ProductFilter{Search: "cup"}); len(got) != 1 {
		t.Errorf("after a rename, search cup = %v", got)
	}
}
