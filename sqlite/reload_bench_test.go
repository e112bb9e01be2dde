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
// same) leaves for the next catalog read: the in-memory copy is loaded again,
// whole. At 20 products it is nothing; at 100,000 it is what every customer's
// next list waits for after each checkout.
func BenchmarkReadAfterWrite(b *testing.B) {
	for _, n := range []int{20, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
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
			for b.Loop() {
				b.StopTimer()
				if _, err := s.Restock(ctx, 1, 1); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
