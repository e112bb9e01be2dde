package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/storify/storify"
)

func testReinstate(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 5)
	if _, err := s.Discontinue(ctx, mug.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	got, err := s.Reinstate(ctx, mug.ID)
	if err != nil {
		t.Fatalf("Reinstate: %v", err)
	}
	if got.Discontinued || got != getProduct(t, s, mug.ID) || got.Stock != 5 {
		t.Errorf("Reinstate = %+v, Product then = %+v; want it on sale with its stock", got, getProduct(t, s, mug.ID))
	}
	if ps := listProducts(t, s, storify.ProductFilter{}); len(ps) != 1 || ps[0].ID != mug.ID {
		t.Errorf("Products after Reinstate = %+v, want Blue Mug", ps)
	}
	_, err = s.Reinstate(ctx, mug.ID)
	wantCode(t, "Reinstate of a product on sale", err, storify.ECONFLICT)
	_, err = s.Reinstate(ctx, mug.ID+1)
	wantCode(t, "Reinstate of no product", err, storify.ENOTFOUND)
}

func testRename(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 5)
	plate := addProduct(t, s, "Red Plate", 800, 5)
	o := checkout(t, s, "Ada", item(mug, 2))

	got, err := s.Rename(ctx, mug.ID, "  Crème Mug ")
	if err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if got.Name != "Crème Mug" || got != getProduct(t, s, mug.ID) {
		t.Errorf("Rename = %+v, Product then = %+v; want the new name", got, getProduct(t, s, mug.ID))
	}
	if p, err := s.ProductByName(ctx, "CRÈME MUG"); err != nil || p.ID != mug.ID {
		t.Errorf("ProductByName(new name) = %+v, %v", p, err)
	}
	_, err = s.ProductByName(ctx, "Blue Mug")
	wantCode(t, "ProductByName(old name)", err, storify.ENOTFOUND)
	// The placed order keeps the name and price it was placed with.
	if got, err := s.Order(ctx, o.ID); err != nil || got.Lines[0].Name != "Blue Mug" || got.Lines[0].UnitPrice != 1250 {
		t.Errorf("order placed before the rename: %+v, %v; want line Blue Mug at 12.50", got, err)
	}
	// A name is still one product's: another's name (in any case) is refused, and
	// so is a bad one; a product may take its own name in another case.
	_, err = s.Rename(ctx, plate.ID, "crème MUG")
	wantCode(t, "Rename to another product's name", err, storify.ECONFLICT)
	_, err = s.Rename(ctx, plate.ID, "")
	wantCode(t, "Rename to an empty name", err, storify.EINVALID)
	_, err = s.Rename(ctx, plate.ID, "42")
	wantCode(t, "Rename to a number", err, storify.EINVALID)
	_, err = s.Rename(ctx, plate.ID+1, "Green Plate")
	wantCode(t, "Rename of no product", err, storify.ENOTFOUND)
	if p, err := s.Rename(ctx, plate.ID, "RED PLATE"); err != nil || p.Name != "RED PLATE" {
		t.Errorf("Rename to its own name in capitals = %+v, %v", p, err)
	}
}

func testDescribe(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 5)
	got, err := s.Describe(ctx, mug.ID, " Holds 300 ml. ")
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if got.Description != "Holds 300 ml." || got != getProduct(t, s, mug.ID) {
		t.Errorf("Describe = %+v, Product then = %+v", got, getProduct(t, s, mug.ID))
	}
	if ps := listProducts(t, s, storify.ProductFilter{Search: "300 ML"}); len(ps) != 1 {
		t.Errorf("a search for the new description found %+v", ps)
	}
	if got, err = s.Describe(ctx, mug.ID, ""); err != nil || got.Description != "" {
		t.Errorf("Describe to nothing = %+v, %v", got, err)
	}
	_, err = s.Describe(ctx, mug.ID, "bad\x1b[2J")
	wantCode(t, "Describe with control characters", err, storify.EINVALID)
	_, err = s.Describe(ctx, mug.ID+1, "x")
	wantCode(t, "Describe of no product", err, storify.ENOTFOUND)
}

func testCategories(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 5)
	cup := addProduct(t, s, "Tea Cup", 900, 5)
	pen := addProduct(t, s, "Red Pen", 150, 5)
	lamp := addProduct(t, s, "Desk Lamp", 4999, 5)
	addProduct(t, s, "Sticker", 300, 5) // in no category

	got, err := s.SetCategory(ctx, mug.ID, " Mugs & Cups ")
	if err != nil {
		t.Fatalf("SetCategory: %v", err)
	}
	if got.Category != "Mugs & Cups" || got != getProduct(t, s, mug.ID) {
		t.Errorf("SetCategory = %+v, Product then = %+v", got, getProduct(t, s, mug.ID))
	}
	// Another spelling joins the category as first spelt.
	if got, err := s.SetCategory(ctx, cup.ID, "MUGS & CUPS"); err != nil || got.Category != "Mugs & Cups" {
		t.Errorf("SetCategory in another case = %+v, %v; want category %q", got, err, "Mugs & Cups")
	}
	for _, c := range []struct {
		id  int64
		cat string
	}{{pen.ID, "Écriture"}, {lamp.ID, "lamps"}} {
		if _, err := s.SetCategory(ctx, c.id, c.cat); err != nil {
			t.Fatalf("SetCategory: %v", err)
		}
	}
	want := []storify.Category{{Name: "Écriture", Products: 1}, {Name: "lamps", Products: 1}, {Name: "Mugs & Cups", Products: 2}}
	if cs, err := s.Categories(ctx); err != nil || !slices.Equal(cs, sortedByKey(want)) {
		t.Errorf("Categories = %+v, %v; want %+v", cs, err, want)
	}
	ps := listProducts(t, s, storify.ProductFilter{Category: "mugs & CUPS"})
	if len(ps) != 2 || ps[0].ID != mug.ID || ps[1].ID != cup.ID {
		t.Errorf("Products{Category} = %+v, want Blue Mug and Tea Cup", ps)
	}
	if ps := listProducts(t, s, storify.ProductFilter{Category: "écriture"}); len(ps) != 1 || ps[0].ID != pen.ID {
		t.Errorf("Products{Category: écriture} = %+v, want Red Pen", ps)
	}
	if ps := listProducts(t, s, storify.ProductFilter{Category: "Mugs & Cups", Search: "tea"}); len(ps) != 1 || ps[0].ID != cup.ID {
		t.Errorf("Products{Category, Search} = %+v, want Tea Cup", ps)
	}
	if ps := listProducts(t, s, storify.ProductFilter{Category: "Nothing"}); len(ps) != 0 {
		t.Errorf("Products{Category: Nothing} = %+v, want none", ps)
	}

	// A discontinued product leaves its category's count, and is listed with All.
	if _, err := s.Discontinue(ctx, lamp.ID); err != nil {
		t.Fatal(err)
	}
	want = []storify.Category{{Name: "Écriture", Products: 1}, {Name: "Mugs & Cups", Products: 2}}
	if cs, err := s.Categories(ctx); err != nil || !slices.Equal(cs, sortedByKey(want)) {
		t.Errorf("Categories after a discontinue = %+v, %v; want %+v", cs, err, want)
	}
	if ps := listProducts(t, s, storify.ProductFilter{Category: "lamps", All: true}); len(ps) != 1 {
		t.Errorf("Products{Category: lamps, All} = %+v, want Desk Lamp", ps)
	}

	// "" takes a product out; bad names are refused.
	if got, err := s.SetCategory(ctx, pen.ID, ""); err != nil || got.Category != "" {
		t.Errorf("SetCategory(\"\") = %+v, %v", got, err)
	}
	_, err = s.SetCategory(ctx, pen.ID, "bad\x07")
	wantCode(t, "SetCategory with a control character", err, storify.EINVALID)
	_, err = s.SetCategory(ctx, pen.ID, "12")
	wantCode(t, "SetCategory to a number", err, storify.EINVALID)
	_, err = s.SetCategory(ctx, lamp.ID+10, "Mugs")
	wantCode(t, "SetCategory of no product", err, storify.ENOTFOUND)
}

// sortedByKey sorts categories as Categories promises (FoldKey of the name).
func sortedByKey(cs []storify.Category) []storify.Category {
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b storify.Category) int {
		switch ka, kb := storify.FoldKey(a.Name), storify.FoldKey(b.Name); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return cs
}
