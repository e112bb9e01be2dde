package shell

import (
	"strings"
	"testing"

	"github.com/storify/storify"
)

// TestCatalogTable: the catalog's columns line up whatever their widths, customers
// see large stock as "999+" and the manager the exact figures.
func TestCatalogTable(t *testing.T) {
	ps := []storify.Product{
		{ID: 1, Name: "Mug", Price: 999, Stock: 5},
		{ID: 9, Name: "Crème brûlée", Price: 45000, Stock: 0},
		{ID: 10, Name: "Pen", Price: 150, Stock: 999},
		{ID: 12, Name: "Nail", Price: 5, Stock: 1_000_000_000, Discontinued: true},
	}
	customer := strings.Join([]string{
		" #  Product        Price     Stock",
		" 1  Mug             9.99         5",
		" 9  Crème brûlée  450.00  sold out",
		"10  Pen             1.50       999",
		"12  Nail            0.05      999+",
		""}, "\n")
	if got := string(appendCatalog(nil, ps, false)); got != customer {
		t.Errorf("customer catalog:\n%s\nwant:\n%s", got, customer)
	}
	manager := strings.Join([]string{
		" #  Product        Price       Stock",
		" 1  Mug             9.99           5",
		" 9  Crème brûlée  450.00    sold out",
		"10  Pen             1.50         999",
		"12  Nail            0.05  1000000000  (discontinued)",
		""}, "\n")
	if got := string(appendCatalog(nil, ps, true)); got != manager {
		t.Errorf("manager catalog:\n%s\nwant:\n%s", got, manager)
	}
}
