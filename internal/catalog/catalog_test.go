package catalog_test

import (
	"context"
	"errors"
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
		snap, err := c.Get(context.Background(), load)
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
		_, err := c.Get(context.Background(), func(context.Context) ([]storify.Product, error) {
			close(started)
			<-release
			return []storify.Product{{ID: 1, Name: "Blue Mug"}}, nil
		})
		loaded <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, func(context.Context) ([]storify.Product, error) {
		t.Error("second load ran while the first held the lock")
		return nil, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get while another load hangs = %v, want %v", err, context.DeadlineExceeded)
	}
	close(release)
	if err := <-loaded; err != nil {
		t.Fatalf("first load: %v", err)
	}
	snap, err := c.Get(context.Background(), func(context.Context) ([]storify.Product, error) {
		return nil, errors.New("not wanted: the snapshot is fresh")
	})
	if err != nil || len(snap.Products(storify.ProductFilter{})) != 1 {
		t.Errorf("Get after the load = %v, %v; want the loaded snapshot", snap, err)
	}
}
