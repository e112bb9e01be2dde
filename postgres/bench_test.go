package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
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

// BenchmarkCheckout measures one customer's checkouts, one after another: the latency
// of a checkout, which is mostly that of a durable commit.
func BenchmarkCheckout(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, newSchema(b).dsn)
	p, err := s.AddProduct(ctx, storify.NewProduct{Name: "Mug", Price: 1250, Stock: storify.MaxStock})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: p.ID, Qty: 1}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProducts measures listing a catalog of 50 products, which every customer
// does on arriving, by one customer at a time: each listing is served from the copy of
// the catalog after a ping of the listener.
func BenchmarkProducts(b *testing.B) {
	ctx := context.Background()
	s := openWithMugs(b, 50)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProductsParallel is BenchmarkProducts with many customers at once (50 per
// GOMAXPROCS), whose listings share the listener's pings.
func BenchmarkProductsParallel(b *testing.B) {
	ctx := context.Background()
	s := openWithMugs(b, 50)
	b.SetParallelism(50)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// openWithMugs opens a store with n products, and waits until its listener listens.
func openWithMugs(b *testing.B, n int) *postgres.Store {
	s := mustOpen(b, newSchema(b).dsn)
	for i := range n {
		if _, err := s.AddProduct(context.Background(), storify.NewProduct{Name: fmt.Sprintf("Mug %d", i), Description: "stoneware", Price: 1250, Stock: 10}); err != nil {
			b.Fatal(err)
		}
	}
	waitListening(b, s)
	return s
}

// BenchmarkProductsChanged measures the same listing when the catalog has changed
// since the last: the copy is loaded again from the database.
func BenchmarkProductsChanged(b *testing.B) {
	ctx := context.Background()
	s := openWithMugs(b, 50)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if _, err := s.SetPrice(ctx, 1, storify.Cents(1000+i%100)); err != nil { // invalidates the copy
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckoutInstances measures checkouts by 100 customers at once (50 per
// GOMAXPROCS) through one Store and through two on the same schema, the customers
// split between them: the same total load, as one instance or two behind a balancer.
// As in ../shared/bench/compare, every customer finds the product by name in the
// catalog and buys one unit of it, all the same product, so that the instances'
// batches contend for one row, and each instance's catalog is made stale by the
// other's checkouts as well as its own. With ",flush=+2ms", every flush of the WAL
// by the stores' sessions lasts 2 ms longer (slowFlush), as on a disk slower to sync
// than this machine's.
func BenchmarkCheckoutInstances(b *testing.B) {
	for _, slow := range []time.Duration{0, 2 * time.Millisecond} {
		for _, n := range []int{1, 2} {
			name := fmt.Sprintf("instances=%d", n)
			if slow > 0 {
				name += fmt.Sprintf(",flush=+%v", slow)
			}
			b.Run(name, func(b *testing.B) { checkoutInstances(b, n, slow) })
		}
	}
}

func checkoutInstances(b *testing.B, n int, slow time.Duration) {
	ctx := context.Background()
	sc := newSchema(b)
	dsn := sc.dsn
	if slow > 0 {
		dsn = slowFlush(b, dsn, slow)
	}
	stores := make([]*postgres.Store, n)
	for i := range stores {
		stores[i] = mustOpen(b, dsn)
	}
	if _, err := stores[0].AddProduct(ctx, storify.NewProduct{Name: "item01", Price: 101, Stock: storify.MaxStock}); err != nil {
		b.Fatal(err)
	}
	waitListening(b, stores...)
	var customers atomic.Int64
	b.SetParallelism(50)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := stores[customers.Add(1)%int64(n)]
		for pb.Next() {
			p, err := s.ProductByName(ctx, "item01")
			if err == nil {
				_, err = s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: p.ID, Qty: 1}}})
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	var batches int64
	for _, s := range stores {
		batches += postgres.Batches(s)
	}
	b.ReportMetric(float64(b.N)/float64(max(batches, 1)), "checkouts/batch")
}
