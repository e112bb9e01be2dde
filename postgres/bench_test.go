package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/storify/storify"
)

// BenchmarkCheckoutParallel measures checkouts from many customers at once (50 per
// GOMAXPROCS), each buying one unit of one of ten products, so that checkouts
// contend for rows as a busy store's do, through the default pool.
func BenchmarkCheckoutParallel(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, newSchema(b).dsn)
	const products = 10
	ids := make([]int64, products)
	for i := range ids {
		p, err := s.AddProduct(ctx, storify.NewProduct{Name: fmt.Sprintf("Mug %d", i), Price: 1250, Stock: storify.MaxStock})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = p.ID
	}
	var n atomic.Int64
	b.SetParallelism(50)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[n.Add(1)%products]
			if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: id, Qty: 1}}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProducts measures listing a catalog of 50 products, which every customer
// does on arriving; with no cache, every listing is a query.
func BenchmarkProducts(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, newSchema(b).dsn)
	for i := range 50 {
		if _, err := s.AddProduct(ctx, storify.NewProduct{Name: fmt.Sprintf("Mug %d", i), Description: "stoneware", Price: 1250, Stock: 10}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}
