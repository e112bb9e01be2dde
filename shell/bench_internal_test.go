package shell

import (
	"fmt"
	"testing"

	"github.com/storify/storify"
)

// BenchmarkParse: tokenizing and binding a typical command line.
func BenchmarkParse(b *testing.B) {
	add := customerCommands.byName["add"]
	b.ReportAllocs()
	for b.Loop() {
		words, err := tokenize(`add "Blue Mug" 2`)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bind(add, words[1:]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCatalog() []storify.Product {
	ps := make([]storify.Product, 20)
	for i := range ps {
		ps[i] = storify.Product{ID: int64(i + 1), Name: fmt.Sprintf("item%02d", i), Price: storify.Cents(100 + i), Stock: 1_000_000_000}
	}
	return ps
}

// BenchmarkRenderCatalog: rendering a 20-product catalog table.
func BenchmarkRenderCatalog(b *testing.B) {
	ps := benchCatalog()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendCatalog(buf[:0], ps, false)
	}
}

// BenchmarkRenderCatalogCached: the same through the shared cache, catalog unchanged.
func BenchmarkRenderCatalogCached(b *testing.B) {
	ps := benchCatalog()
	var cache CatalogCache
	b.ReportAllocs()
	for b.Loop() {
		cache.render(ps)
	}
}
