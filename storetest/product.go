package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/storify/storify"
)

func testAddProduct(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p, err := s.AddProduct(ctx, storify.NewProduct{
		Name: "Blue Mug", Description: "holds 300 ml of tea", Price: 1250, Stock: 7,
	})
	if err != nil {
		t.Fatalf("AddProduct: %v", err)
	}
	want := storify.Product{
		ID: p.ID, Name: "Blue Mug", Description: "holds 300 ml of tea", Price: 1250, Stock: 7, Received: 7,
	}
	if p.ID <= 0 {
		t.Errorf("AddProduct: catalog number %d, want a positive one", p.ID)
	}
	if p != want {
		t.Errorf("AddProduct returned %+v, want %+v", p, want)
	}
	if got := getProduct(t, s, p.ID); got != want {
		t.Errorf("Product(%d) = %+v, want %+v", p.ID, got, want)
	}
	if ps := listProducts(t, s, storify.ProductFilter{}); len(ps) != 1 || ps[0] != want {
		t.Errorf("Products = %+v, want [%+v]", ps, want)
	}

	q := addProduct(t, s, "Red Plate", 800, 0)
	if q.ID == p.ID {
		t.Errorf("two products got catalog number %d", q.ID)
	}
	if q.Stock != 0 || q.Received != 0 {
		t.Errorf("product added with no stock: stock %d, received %d; want 0, 0", q.Stock, q.Received)
	}
}

// A name typed with stray spaces is stored as the customer will read it.
func testAddProductTrimsName(t *testing.T, s storify.Store) {
	p, err := s.AddProduct(context.Background(), storify.NewProduct{
		Name: "  Blue Mug \t", Description: "  big  ", Price: 100, Stock: 1,
	})
	if err != nil {
		t.Fatalf("AddProduct: %v", err)
	}
	if p.Name != "Blue Mug" || p.Description != "big" {
		t.Errorf("AddProduct stored name %q, description %q; want %q, %q", p.Name, p.Description, "Blue Mug", "big")
	}
	if got := getProduct(t, s, p.ID); got.Name != "Blue Mug" {
		t.Errorf("Product(%d).Name = %q, want %q", p.ID, got.Name, "Blue Mug")
	}
}

func testAddProductInvalid(t *testing.T, s storify.Store) {
	ok := storify.NewProduct{Name: "Blue Mug", Description: "a mug", Price: 1250, Stock: 5}
	tests := []struct {
		what string
		edit func(p *storify.NewProduct)
	}{
		{"empty name", func(p *storify.NewProduct) { p.Name = "" }},
		{"blank name", func(p *storify.NewProduct) { p.Name = "   " }},
		{"name that is a number", func(p *storify.NewProduct) { p.Name = "42" }},
		{"name that is a catalog number", func(p *storify.NewProduct) { p.Name = "#42" }},
		{"name too long", func(p *storify.NewProduct) { p.Name = strings.Repeat("m", storify.MaxNameLen+1) }},
		{"name with an escape sequence", func(p *storify.NewProduct) { p.Name = "Mug\x1b[2J" }},
		{"name with a newline", func(p *storify.NewProduct) { p.Name = "Blue\nMug" }},
		{"name not UTF-8", func(p *storify.NewProduct) { p.Name = "Mug\xff" }},
		{"description too long", func(p *storify.NewProduct) { p.Description = strings.Repeat("d", storify.MaxDescriptionLen+1) }},
		{"description with a control character", func(p *storify.NewProduct) { p.Description = "a\amug" }},
		{"negative price", func(p *storify.NewProduct) { p.Price = -1 }},
		{"price above the maximum", func(p *storify.NewProduct) { p.Price = storify.MaxPrice + 1 }},
		{"negative stock", func(p *storify.NewProduct) { p.Stock = -1 }},
		{"stock above the maximum", func(p *storify.NewProduct) { p.Stock = storify.MaxStock + 1 }},
	}
	for _, tt := range tests {
		np := ok
		tt.edit(&np)
		_, err := s.AddProduct(context.Background(), np)
		wantCode(t, "AddProduct with "+tt.what, err, storify.EINVALID)
	}
	if ps := listProducts(t, s, storify.ProductFilter{All: true}); len(ps) != 0 {
		t.Errorf("rejected products were added: %+v", ps)
	}
}

// The limits themselves are allowed: a store may give a product away or stock the most.
func testAddProductLimits(t *testing.T, s storify.Store) {
	tests := []storify.NewProduct{
		{Name: "Free Sticker", Price: 0, Stock: 0},
		{Name: "Gold Bar", Price: storify.MaxPrice, Stock: storify.MaxStock},
		{Name: strings.Repeat("n", storify.MaxNameLen), Description: strings.Repeat("d", storify.MaxDescriptionLen), Price: 1, Stock: 1},
		{Name: "Crème Brûlée 2", Description: "Ünïcödé 🍮", Price: 450, Stock: 3},
	}
	for _, np := range tests {
		p, err := s.AddProduct(context.Background(), np)
		if err != nil {
			t.Errorf("AddProduct(%+v): %v", np, err)
			continue
		}
		if p.Name != np.Name || p.Description != np.Description || p.Price != np.Price || p.Stock != np.Stock || p.Received != np.Stock {
			t.Errorf("AddProduct(%+v) = %+v", np, p)
		}
	}
}

func testAddProductDuplicateName(t *testing.T, s storify.Store) {
	first := addProduct(t, s, "Blue Mug", 1250, 5)
	addProduct(t, s, "Crème Brûlée", 450, 5)
	for _, name := range []string{"Blue Mug", "blue mug", "BLUE MUG", "  Blue Mug  ", "CRÈME BRÛLÉE"} {
		_, err := s.AddProduct(context.Background(), storify.NewProduct{Name: name, Price: 100, Stock: 1})
		wantCode(t, fmt.Sprintf("AddProduct(%q) with the name taken", name), err, storify.ECONFLICT)
	}
	if ps := listProducts(t, s, storify.ProductFilter{All: true}); len(ps) != 2 {
		t.Errorf("Products: %d products, want 2: %+v", len(ps), ps)
	}
	if got := getProduct(t, s, first.ID); got != first {
		t.Errorf("the first Blue Mug changed: %+v, want %+v", got, first)
	}

	// A discontinued product still holds its name: ProductByName must stay unambiguous.
	if _, err := s.Discontinue(context.Background(), first.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	_, err := s.AddProduct(context.Background(), storify.NewProduct{Name: "Blue Mug", Price: 100, Stock: 1})
	wantCode(t, "AddProduct with the name of a discontinued product", err, storify.ECONFLICT)
}

func testProductsCatalogOrder(t *testing.T, s storify.Store) {
	if ps := listProducts(t, s, storify.ProductFilter{}); len(ps) != 0 {
		t.Errorf("a new store lists %d products, want none", len(ps))
	}
	var want []storify.Product
	for _, name := range []string{"Zebra Mug", "Apple Plate", "Mango Bowl"} {
		want = append(want, addProduct(t, s, name, 100, 1))
	}
	got := listProducts(t, s, storify.ProductFilter{})
	if len(got) != len(want) {
		t.Fatalf("Products: %d products, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Products[%d] = %+v, want %+v (catalog-number order)", i, got[i], want[i])
		}
		if i > 0 && got[i].ID <= got[i-1].ID {
			t.Errorf("catalog numbers not increasing: %d after %d", got[i].ID, got[i-1].ID)
		}
	}
}

func testProductsSearch(t *testing.T, s storify.Store) {
	ctx := context.Background()
	add := func(name, desc string) storify.Product {
		t.Helper()
		p, err := s.AddProduct(ctx, storify.NewProduct{Name: name, Description: desc, Price: 100, Stock: 1})
		if err != nil {
			t.Fatalf("AddProduct(%q): %v", name, err)
		}
		return p
	}
	mug := add("Blue Mug", "stoneware, holds tea")
	plate := add("Red Plate", "a blue rim")
	bowl := add("Green Bowl", "for soup")
	old := add("Old Blue Cup", "chipped")
	creme := add("Crème Brûlée", "dessert")
	if _, err := s.Discontinue(ctx, old.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}

	names := func(ps []storify.Product) []string {
		var ns []string
		for _, p := range ps {
			ns = append(ns, p.Name)
		}
		return ns
	}
	tests := []struct {
		filter storify.ProductFilter
		want   []storify.Product
	}{
		{storify.ProductFilter{}, []storify.Product{mug, plate, bowl, creme}},
		{storify.ProductFilter{All: true}, []storify.Product{mug, plate, bowl, old, creme}},
		{storify.ProductFilter{Search: "blue"}, []storify.Product{mug, plate}},
		{storify.ProductFilter{Search: "BLUE"}, []storify.Product{mug, plate}},
		// Found in the name before found in the description.
		{storify.ProductFilter{Search: "blue", All: true}, []storify.Product{mug, old, plate}},
		{storify.ProductFilter{Search: "mug"}, []storify.Product{mug}},
		{storify.ProductFilter{Search: "SOUP"}, []storify.Product{bowl}},
		// Every word must be found, in a word or part of one: both in the name
		// first, then one in the description.
		{storify.ProductFilter{Search: "e m"}, []storify.Product{mug, creme, plate}},
		{storify.ProductFilter{Search: "CRÈME"}, []storify.Product{creme}},
		{storify.ProductFilter{Search: "creme brulee"}, []storify.Product{creme}}, // accents need not be typed
		{storify.ProductFilter{Search: "chipped"}, nil},
		{storify.ProductFilter{Search: "teapot"}, nil},
		// Characters that are wildcards in SQL LIKE must match only themselves.
		{storify.ProductFilter{Search: "%"}, nil},
		{storify.ProductFilter{Search: "_"}, nil},
	}
	for _, tt := range tests {
		got := listProducts(t, s, tt.filter)
		if fmt.Sprint(names(got)) != fmt.Sprint(names(tt.want)) {
			t.Errorf("Products(%+v) = %q, want %q", tt.filter, names(got), names(tt.want))
		}
	}
}

func testProductNotFound(t *testing.T, s storify.Store) {
	p := addProduct(t, s, "Blue Mug", 100, 1)
	for _, id := range []int64{p.ID + 1, 0, -1} {
		_, err := s.Product(context.Background(), id)
		wantCode(t, fmt.Sprintf("Product(%d)", id), err, storify.ENOTFOUND)
	}
}

func testProductByName(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 3)
	creme := addProduct(t, s, "Crème Brûlée", 450, 2)
	addProduct(t, s, "Blue Mug XL", 1500, 1)
	for _, tt := range []struct {
		name string
		want storify.Product
	}{
		{"Blue Mug", mug},
		{"blue mug", mug},
		{"BLUE MUG", mug},
		{"crème brûlée", creme},
		{"CRÈME BRÛLÉE", creme},
	} {
		got, err := s.ProductByName(ctx, tt.name)
		if err != nil {
			t.Errorf("ProductByName(%q): %v", tt.name, err)
		} else if got != tt.want {
			t.Errorf("ProductByName(%q) = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, name := range []string{"Blue", "Mug", "Blue Mugs", "", "Red Plate"} {
		_, err := s.ProductByName(ctx, name)
		wantCode(t, fmt.Sprintf("ProductByName(%q)", name), err, storify.ENOTFOUND)
	}

	// A discontinued product is still found by name, marked so.
	if _, err := s.Discontinue(ctx, mug.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	got, err := s.ProductByName(ctx, "blue mug")
	if err != nil {
		t.Fatalf("ProductByName of a discontinued product: %v", err)
	}
	if got.ID != mug.ID || !got.Discontinued {
		t.Errorf("ProductByName of a discontinued product = %+v, want #%d discontinued", got, mug.ID)
	}
}

func testRestock(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p := addProduct(t, s, "Blue Mug", 1250, 3)
	got, err := s.Restock(ctx, p.ID, 5)
	if err != nil {
		t.Fatalf("Restock: %v", err)
	}
	if got.Stock != 8 || got.Received != 8 || got.Name != p.Name || got.Price != p.Price {
		t.Errorf("Restock(5) of 3 = %+v, want stock 8, received 8", got)
	}
	wantStock(t, s, p.ID, 8, 8)

	// After a sale, a restock adds to both counts.
	checkout(t, s, "Ada", item(p, 2))
	if got, err = s.Restock(ctx, p.ID, storify.MaxQty); err != nil {
		t.Fatalf("Restock(MaxQty): %v", err)
	}
	if got.Stock != 6+storify.MaxQty || got.Received != 8+storify.MaxQty {
		t.Errorf("Restock(MaxQty) = stock %d, received %d; want %d, %d", got.Stock, got.Received, 6+storify.MaxQty, 8+storify.MaxQty)
	}
	wantStock(t, s, p.ID, 6+storify.MaxQty, 8+storify.MaxQty)
	checkInvariant(t, s)
}

func testRestockInvalid(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p := addProduct(t, s, "Blue Mug", 1250, 3)
	for _, qty := range []int{0, -1, -5, storify.MaxStock + 1} {
		_, err := s.Restock(ctx, p.ID, qty)
		wantCode(t, fmt.Sprintf("Restock(%d)", qty), err, storify.EINVALID)
	}
	wantStock(t, s, p.ID, 3, 3)

	_, err := s.Restock(ctx, p.ID+1, 5)
	wantCode(t, "Restock of no product", err, storify.ENOTFOUND)
	wantStock(t, s, p.ID, 3, 3)
}

func testSetPrice(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p := addProduct(t, s, "Blue Mug", 1250, 3)
	got, err := s.SetPrice(ctx, p.ID, 999)
	if err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	want := p
	want.Price = 999
	if got != want {
		t.Errorf("SetPrice = %+v, want %+v", got, want)
	}
	if got := getProduct(t, s, p.ID); got != want {
		t.Errorf("Product after SetPrice = %+v, want %+v", got, want)
	}
	if _, err := s.SetPrice(ctx, p.ID, 0); err != nil {
		t.Errorf("SetPrice(0): %v", err)
	}
	if _, err := s.SetPrice(ctx, p.ID, storify.MaxPrice); err != nil {
		t.Errorf("SetPrice(MaxPrice): %v", err)
	}
	for _, price := range []storify.Cents{-1, storify.MaxPrice + 1} {
		_, err := s.SetPrice(ctx, p.ID, price)
		wantCode(t, fmt.Sprintf("SetPrice(%d)", price), err, storify.EINVALID)
	}
	if got := getProduct(t, s, p.ID); got.Price != storify.MaxPrice {
		t.Errorf("a rejected SetPrice changed the price to %s", got.Price)
	}
	_, err = s.SetPrice(ctx, p.ID+1, 100)
	wantCode(t, "SetPrice of no product", err, storify.ENOTFOUND)
}

func testSetPriceKeepsPlacedOrders(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p := addProduct(t, s, "Blue Mug", 1250, 10)
	before := checkout(t, s, "Ada", item(p, 2))
	if _, err := s.SetPrice(ctx, p.ID, 2000); err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	after := checkout(t, s, "Bob", item(p, 1))

	got, err := s.Order(ctx, before.ID)
	if err != nil {
		t.Fatalf("Order: %v", err)
	}
	if got.Lines[0].UnitPrice != 1250 || got.Total != 2500 {
		t.Errorf("order placed before the price change: unit price %s, total %s; want 12.50, 25.00",
			got.Lines[0].UnitPrice, got.Total)
	}
	if after.Lines[0].UnitPrice != 2000 || after.Total != 2000 {
		t.Errorf("order placed after the price change: unit price %s, total %s; want 20.00, 20.00",
			after.Lines[0].UnitPrice, after.Total)
	}
}

func testDiscontinue(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 5)
	plate := addProduct(t, s, "Red Plate", 800, 5)
	o := checkout(t, s, "Ada", item(mug, 2))

	got, err := s.Discontinue(ctx, mug.ID)
	if err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	want := getProduct(t, s, mug.ID)
	if !got.Discontinued || !want.Discontinued || got != want {
		t.Errorf("Discontinue = %+v; Product then = %+v; want both discontinued and equal", got, want)
	}
	if want.Stock != 3 || want.Price != 1250 {
		t.Errorf("Discontinue changed stock or price: %+v", want)
	}
	if ps := listProducts(t, s, storify.ProductFilter{}); len(ps) != 1 || ps[0].ID != plate.ID {
		t.Errorf("Products after discontinuing Blue Mug = %+v, want only Red Plate", ps)
	}
	if ps := listProducts(t, s, storify.ProductFilter{All: true}); len(ps) != 2 {
		t.Errorf("Products{All} after discontinuing = %+v, want both products", ps)
	}

	_, err = s.Discontinue(ctx, mug.ID)
	wantCode(t, "Discontinue twice", err, storify.ECONFLICT)
	_, err = s.Discontinue(ctx, plate.ID+1)
	wantCode(t, "Discontinue of no product", err, storify.ENOTFOUND)

	// Its orders stay as they are.
	got2, err := s.Order(ctx, o.ID)
	if err != nil {
		t.Fatalf("Order: %v", err)
	}
	sameOrder(t, "order of a discontinued product", got2, o)
}

// Every read after a write sees the write, whichever way the product is read: a
// backend that keeps a copy of the catalog must refresh it.
func testReadAfterWrite(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	// want is the whole catalog as it must read now.
	want := []storify.Product{mug}
	check := func(after string) {
		t.Helper()
		var listed []storify.Product
		for _, p := range want {
			if !p.Discontinued {
				listed = append(listed, p)
			}
		}
		if got := listProducts(t, s, storify.ProductFilter{}); fmt.Sprint(got) != fmt.Sprint(listed) {
			t.Errorf("after %s: Products = %+v, want %+v", after, got, listed)
		}
		if got := listProducts(t, s, storify.ProductFilter{All: true}); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after %s: Products{All} = %+v, want %+v", after, got, want)
		}
		for _, f := range []struct {
			filter storify.ProductFilter
			want   []storify.Product
		}{{storify.ProductFilter{}, listed}, {storify.ProductFilter{All: true}, want}} {
			for _, w := range [][2]int{{0, 1}, {1, 10}, {0, 100}, {5, 10}, {1, 0}} {
				page, total, err := s.ProductsPage(ctx, f.filter, w[0], w[1])
				from := min(w[0], len(f.want))
				to := min(max(w[1], from), len(f.want))
				if err != nil || total != len(f.want) || fmt.Sprint(page) != fmt.Sprint(f.want[from:to]) {
					t.Errorf("after %s: ProductsPage(%+v, %d, %d) = %+v, %d, %v; want %+v, %d", after, f.filter, w[0], w[1], page, total, err, f.want[from:to], len(f.want))
				}
			}
		}
		if got := listProducts(t, s, storify.ProductFilter{All: true, Search: "PLATE"}); len(want) > 1 && (len(got) != 1 || got[0] != want[1]) {
			t.Errorf("after %s: Products{Search: PLATE} = %+v, want [%+v]", after, got, want[1])
		}
		for _, p := range want {
			if got := getProduct(t, s, p.ID); got != p {
				t.Errorf("after %s: Product(%d) = %+v, want %+v", after, p.ID, got, p)
			}
			if got, err := s.ProductByName(ctx, strings.ToUpper(p.Name)); err != nil || got != p {
				t.Errorf("after %s: ProductByName(%q) = %+v, %v; want %+v", after, p.Name, got, err, p)
			}
		}
	}
	check("AddProduct")
	check("reading twice")

	plate := addProduct(t, s, "Red Plate", 800, 5)
	want = append(want, plate)
	check("a second AddProduct")

	if _, err := s.Restock(ctx, mug.ID, 5); err != nil {
		t.Fatalf("Restock: %v", err)
	}
	want[0].Stock, want[0].Received = 15, 15
	check("Restock")

	if _, err := s.SetPrice(ctx, plate.ID, 999); err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	want[1].Price = 999
	check("SetPrice")

	o := checkout(t, s, "Ada", item(mug, 3), item(plate, 5))
	want[0].Stock, want[1].Stock = 12, 0
	check("Checkout")

	if _, err := s.Cancel(ctx, o.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	want[0].Stock, want[1].Stock = 15, 5
	check("Cancel")

	if _, err := s.Discontinue(ctx, mug.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	want[0].Discontinued = true
	check("Discontinue")

	// A refused write changes nothing.
	_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(plate, 6)}})
	wantCode(t, "Checkout of more than there is", err, storify.ECONFLICT)
	check("a refused Checkout")
}

// Search ranks: every word in the name before any in the description, whole
// words before parts, then catalog order; and SuggestSearch corrects a typo.
func testProductsSearchRanked(t *testing.T, s storify.Store) {
	ctx := context.Background()
	var ps []storify.Product
	for _, np := range [][2]string{
		{"Coaster", "goes under mugs"},    // part of a description word
		{"Tea Towel", "dries a mug"},      // a description word
		{"Mugwort Tea", "a herbal tea"},   // part of a name word
		{"Blue Mug", "stoneware"},         // a name word
		{"Mug Rack", "holds six mugs"},    // a name word
		{"Teapot", "for the whole table"}, // not found
	} {
		p, err := s.AddProduct(ctx, storify.NewProduct{Name: np[0], Description: np[1], Price: 100, Stock: 1})
		if err != nil {
			t.Fatalf("AddProduct: %v", err)
		}
		ps = append(ps, p)
	}
	ids := func(ps []storify.Product) []int64 {
		var ids []int64
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		return ids
	}
	if got, want := ids(listProducts(t, s, storify.ProductFilter{Search: "MUG"})),
		ids([]storify.Product{ps[3], ps[4], ps[2], ps[1], ps[0]}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("search mug: %v, want %v (name words, name parts, description words, description parts)", got, want)
	}
	if got, want := ids(listProducts(t, s, storify.ProductFilter{Search: "tea mug"})),
		ids([]storify.Product{ps[2], ps[1]}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("search tea mug: %v, want %v", got, want)
	}
	for _, tt := range []struct{ text, want string }{
		{"mgu", "mug"},
		{"BLUE MGU", "blue mug"},
		{"stonewear", "stoneware"},
		{"mug", ""},  // found: nothing to correct
		{"xqzv", ""}, // nothing close
		{"mgu xqzv", ""},
	} {
		if got, err := s.SuggestSearch(ctx, tt.text); err != nil || got != tt.want {
			t.Errorf("SuggestSearch(%q) = %q, %v; want %q", tt.text, got, err, tt.want)
		}
	}
}
