package shell_test

import (
	"context"
	"strings"
	"testing"

	"github.com/storify/storify"
)

func TestManagerEditsCatalog(t *testing.T) {
	store := mustOpenStore(t) // #1 Blue Mug 12.50, #2 Notebook 6.90
	ctx := context.Background()
	o, err := store.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: 1, Qty: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	out := manage(t, store, nil,
		`rename "blue mug" Big Blue Mug`,
		"describe 2 Squared paper, 96 pages.",
		`category "Big Blue Mug" Kitchen & Dining`,
		"category 2 kitchen & dining", // joins the category as first spelt
		"rename 2 big blue MUG",
		"discontinue 2",
		"reinstate notebook",
		"reinstate 2",
		"category 2 none",
		"rename", "1", "Mug",
		"order 1",
	)
	wantContains(t, out,
		"#1 Blue Mug is now Big Blue Mug; placed orders keep the name they were placed with.",
		"#2 Notebook: description changed.",
		"#1 Big Blue Mug is in Kitchen & Dining.",
		"#2 Notebook is in Kitchen & Dining.",
		`There is already a product named "big blue MUG".`,
		"#2 Notebook is on sale again.",
		"Notebook is on sale already.",
		"#2 Notebook is in no category.",
		"#1 Big Blue Mug is now Mug;",
		"1 x Blue Mug 12.50", // the order keeps its name
	)
	if got, _ := store.Order(ctx, o.ID); got.Lines[0].Name != "Blue Mug" {
		t.Errorf("the order's line is now %q", got.Lines[0].Name)
	}
	p, _ := store.Product(ctx, 2)
	if p.Description != "Squared paper, 96 pages." || p.Discontinued || p.Category != "" {
		t.Errorf("Notebook = %+v", p)
	}
}

func TestCustomerBrowsesCategories(t *testing.T) {
	store := mustOpenCatalog(t, 30)
	ctx := context.Background()
	for id := int64(1); id <= 25; id++ {
		if _, err := store.SetCategory(ctx, id, "Kitchen Things"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.SetCategory(ctx, 26, "Pens"); err != nil {
		t.Fatal(err)
	}
	r := run(t, store, false, 0, "categories", "list kitchen things", "", "list pens", `list "KITCHEN things" 2`, "list Mugs", "show 26", "list 2", "list pnes", "list kichen thngs")
	wants := []string{
		"Kitchen Things 25\nPens 1\nType list CATEGORY to see one.",
		`products in Kitchen Things 1–20 of 25. Type next (or just Enter) for more, list "Kitchen Things" PAGE to go to a page.`,
		"products in Kitchen Things 21–25 of 25, the last page.",
		"Item 0026",
		"products in Kitchen Things 21–25 of 25",
		`There is no category "Mugs"; type categories to see them.`,
		"Category: Pens",
		"products 21–30 of 30",
		`There is no category "pnes"; did you mean Pens? Type categories to see them all.`,
		`There is no category "kichen thngs"; did you mean Kitchen Things? Type categories to see them all.`,
	}
	for i, w := range wants {
		if !strings.Contains(spaces.ReplaceAllString(r[i], " "), w) {
			t.Errorf("reply %d lacks %q:\n%s", i, w, r[i])
		}
	}
	if first, n := rowsOf(r[3]); first != 26 || n != 1 {
		t.Errorf("list pens: rows from #%d, %d of them:\n%s", first, n, r[3])
	}
}

func TestSearchRankedAndForgiving(t *testing.T) {
	store := mustOpenCatalog(t, 0)
	ctx := context.Background()
	for _, np := range []storify.NewProduct{
		{Name: "Coaster", Description: "Goes under mugs.", Price: 300, Stock: 9},
		{Name: "Crème Brûlée Set", Description: "Six ramekins.", Price: 2400, Stock: 9},
		{Name: "Blue Mug", Description: "Stoneware.", Price: 1250, Stock: 9},
	} {
		if _, err := store.AddProduct(ctx, np); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, store, false, 0, "search mug", "search mgu", "search CREME brulee", "search xqzv")
	if i, j := strings.Index(r[0], "Blue Mug"), strings.Index(r[0], "Coaster"); i < 0 || j < 0 || i > j {
		t.Errorf("search mug: the name match should come first:\n%s", r[0])
	}
	wantContains(t, r[1], `Nothing matches "mgu". Did you mean mug? Here is what that finds:`, "Blue Mug")
	wantContains(t, r[2], "Crème Brûlée Set")
	wantContains(t, r[3], `Nothing matches "xqzv".`)
}
