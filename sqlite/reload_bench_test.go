package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/sqlite"
)

// BenchmarkReadAfterWrite is the cost a write (here a restock; a checkout is the
// same) leaves for the next catalog read, at 20 and at 100,000 products: "page" reads
// the first page (what list shows), "whole" the whole catalog (Products), which a
// snapshot patched by the write makes once.
func BenchmarkReadAfterWrite(b *testing.B) {
	for _, n := range []int{20, 100_000} {
		for _, read := range []string{"page", "whole"} {
			b.Run(fmt.Sprintf("%d/%s", n, read), func(b *testing.B) {
				s, err := sqlite.Open(filepath.Join(b.TempDir(), "r.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				ctx := context.Background()
				rows := make([]storify.ProductRow, n)
				for i := range rows {
					rows[i] = storify.ProductRow{Line: i + 2, Name: fmt.Sprintf("Product %06d", i+1), Price: 100, Stock: 10,
						Description: "A product for every day."}
				}
				if _, err := s.ImportProducts(ctx, rows, false); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil { // the first read loads it all
					b.Fatal(err)
				}
				for b.Loop() {
					b.StopTimer()
					if _, err := s.Restock(ctx, 1, 1); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					var err error
					if read == "page" {
						_, _, err = s.ProductsPage(ctx, storify.ProductFilter{}, 0, 20)
					} else {
						_, err = s.Products(ctx, storify.ProductFilter{})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
