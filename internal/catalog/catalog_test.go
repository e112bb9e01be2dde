package catalog_test

import (
	"context"
	"testing"

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
