package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/storify/storify"
)

func testImportProducts(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	pen := addProduct(t, s, "Red Pen", 150, 40)
	if _, err := s.SetCategory(ctx, pen.ID, "Writing"); err != nil {
		t.Fatal(err)
	}
	checkout(t, s, "Ada", item(mug, 2)) // 8 left, 10 received
	rows := []storify.ProductRow{
		{Line: 2, Name: "BLUE MUG", Price: 1300, Stock: 20, Description: "Stoneware.", Category: "Kitchen"},
		{Line: 3, Name: "Red Pen", Price: 150, Stock: 40, Description: pen.Description, Category: "Writing"}, // unchanged
		{Line: 4, Name: "Green Pen", Price: 160, Stock: 5, Category: "WRITING"},
		{Line: 5, Name: "Tea Cup", Price: 900, Stock: 0, Category: "kitchen"},
	}
	before := listProducts(t, s, storify.ProductFilter{All: true})
	dry, err := s.ImportProducts(ctx, rows, true)
	if want := (storify.ImportResult{Added: 2, Updated: 1, Unchanged: 1}); err != nil || dry != want {
		t.Fatalf("dry run = %+v, %v; want %+v", dry, err, want)
	}
	if after := listProducts(t, s, storify.ProductFilter{All: true}); len(after) != len(before) || after[0] != before[0] {
		t.Fatalf("a dry run changed the catalog: %+v", after)
	}
	got, err := s.ImportProducts(ctx, rows, false)
	if err != nil || got != dry {
		t.Fatalf("ImportProducts = %+v, %v; want what the dry run said, %+v", got, err, dry)
	}
	m := getProduct(t, s, mug.ID)
	if m.Name != "BLUE MUG" || m.Price != 1300 || m.Stock != 20 || m.Received != 22 || m.Description != "Stoneware." || m.Category != "Kitchen" {
		t.Errorf("updated mug = %+v; want the row's name, price, stock 20 (22 received: 2 sold), description, category", m)
	}
	green, err := s.ProductByName(ctx, "green pen")
	if err != nil || green.Stock != 5 || green.Received != 5 || green.Category != "Writing" {
		t.Errorf("added pen = %+v, %v; want 5 in stock and the category as first spelt", green, err)
	}
	if cup, err := s.ProductByName(ctx, "Tea Cup"); err != nil || cup.Category != "Kitchen" {
		t.Errorf("added cup = %+v, %v; want category Kitchen as the file first spelt it", cup, err)
	}
	checkInvariant(t, s)

	// A bad row anywhere: nothing at all is written, and the error names its line.
	before = listProducts(t, s, storify.ProductFilter{All: true})
	for _, tt := range []struct {
		rows []storify.ProductRow
		line string
	}{
		{[]storify.ProductRow{{Line: 2, Name: "Plate", Price: 500, Stock: 1}, {Line: 3, Name: "plate", Price: 500, Stock: 1}}, "line 3:"},
		{[]storify.ProductRow{{Line: 2, Name: "Bowl", Price: 500, Stock: 1}, {Line: 7, Name: "Cup", Price: -1, Stock: 1}}, "line 7:"},
		{[]storify.ProductRow{{Line: 2, Name: "Bowl", Price: 500, Stock: 1}, {Line: 4, Name: "Saucer", Price: 1, Stock: -2}}, "line 4:"},
		{[]storify.ProductRow{{Line: 2, Name: "Bowl", Price: 500, Stock: 1}, {Line: 5, Name: "", Price: 1, Stock: 1}}, "line 5:"},
		{[]storify.ProductRow{{Line: 9, Name: "Bad\x1b[2J", Price: 1, Stock: 1}}, "line 9:"},
	} {
		for _, dry := range []bool{true, false} {
			_, err := s.ImportProducts(ctx, tt.rows, dry)
			if msg := wantCode(t, "ImportProducts of a bad file", err, storify.EINVALID); !strings.HasPrefix(msg, tt.line) {
				t.Errorf("ImportProducts of a bad file: %q, want it to start %q", msg, tt.line)
			}
		}
	}
	if after := listProducts(t, s, storify.ProductFilter{All: true}); len(after) != len(before) {
		t.Errorf("a refused import changed the catalog: %d products, had %d", len(after), len(before))
	}
}
