package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/storify/storify"
)

// testInitialize: the first Initialize of a store adds the catalog and says so;
// every later one adds nothing, even once the catalog is empty again, and of
// several at once exactly one is the first.
func testInitialize(t *testing.T, s storify.Store) {
	ctx := context.Background()
	sample := []storify.NewProduct{
		{Name: " Blue Mug ", Description: "Sturdy.", Price: 1250, Stock: 24},
		{Name: "Notebook", Price: 690, Stock: 0},
	}
	if _, err := s.Initialize(ctx, []storify.NewProduct{{Name: "", Price: 1}}); storify.ErrorCode(err) != storify.EINVALID {
		t.Errorf("Initialize with a nameless product: %v, want EINVALID", err)
	}
	if _, err := s.Initialize(ctx, []storify.NewProduct{{Name: "A", Price: 1}, {Name: "a", Price: 2}}); storify.ErrorCode(err) != storify.ECONFLICT {
		t.Errorf("Initialize with one name twice: %v, want ECONFLICT", err)
	}
	if ps, _ := s.Products(ctx, storify.ProductFilter{All: true}); len(ps) != 0 {
		t.Fatalf("refused Initialize calls left products: %v", ps)
	}

	var wg sync.WaitGroup
	firsts := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			first, err := s.Initialize(ctx, sample)
			if err != nil {
				t.Errorf("Initialize: %v", err)
			}
			firsts <- first
		})
	}
	wg.Wait()
	close(firsts)
	n := 0
	for first := range firsts {
		if first {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 concurrent Initialize calls said they were the first, want 1", n)
	}
	ps, err := s.Products(ctx, storify.ProductFilter{All: true})
	if err != nil || len(ps) != 2 || ps[0].Name != "Blue Mug" || ps[0].Stock != 24 || ps[0].Received != 24 ||
		ps[0].Description != "Sturdy." || ps[1].Name != "Notebook" || ps[1].Price != 690 {
		t.Fatalf("after Initialize: %+v, %v; want the sample catalog once", ps, err)
	}
	for _, p := range ps {
		if _, err := s.Discontinue(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if first, err := s.Initialize(ctx, sample); first || err != nil {
		t.Errorf("Initialize again: %v, %v; want false, nil", first, err)
	}
	if ps, _ := s.Products(ctx, storify.ProductFilter{All: true}); len(ps) != 2 {
		t.Errorf("Initialize again added products: %v", ps)
	}
}

// testInitializeEmpty: a store initialised without a catalog is not new any more.
func testInitializeEmpty(t *testing.T, s storify.Store) {
	ctx := context.Background()
	if first, err := s.Initialize(ctx, nil); !first || err != nil {
		t.Fatalf("first Initialize(nil): %v, %v; want true, nil", first, err)
	}
	if first, err := s.Initialize(ctx, []storify.NewProduct{{Name: "Mug", Price: 100, Stock: 1}}); first || err != nil {
		t.Errorf("Initialize after Initialize(nil): %v, %v; want false, nil", first, err)
	}
	if ps, _ := s.Products(ctx, storify.ProductFilter{All: true}); len(ps) != 0 {
		t.Errorf("a store initialised empty got products: %v", ps)
	}
}
