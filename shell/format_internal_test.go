package shell

import (
	"strings"
	"testing"

	"github.com/storify/storify"
)

// TestCatalogTable: the catalog's columns line up whatever their widths; customers
// are told only of scarce stock, the manager sees every figure.
func TestCatalogTable(t *testing.T) {
	ps := []storify.Product{
		{ID: 1, Name: "Mug", Price: 999, Stock: 5},
		{ID: 9, Name: "Crème brûlée", Price: 45000, Stock: 0},
		{ID: 10, Name: "Pen", Price: 150, Stock: 10},
		{ID: 11, Name: "Cup", Price: 300, Stock: 11},
		{ID: 12, Name: "Nail", Price: 5, Stock: 1_000_000_000, Discontinued: true},
	}
	customer := strings.Join([]string{
		" #  Product        Price",
		" 1  Mug             9.99  5 left",
		" 9  Crème brûlée  450.00  sold out",
		"10  Pen             1.50  10 left",
		"11  Cup             3.00",
		"12  Nail            0.05",
		""}, "\n")
	if got := string(appendCatalog(nil, ps, false)); got != customer {
		t.Errorf("customer catalog:\n%s\nwant:\n%s", got, customer)
	}
	manager := strings.Join([]string{
		" #  Product        Price       Stock",
		" 1  Mug             9.99           5",
		" 9  Crème brûlée  450.00    sold out",
		"10  Pen             1.50          10",
		"11  Cup             3.00          11",
		"12  Nail            0.05  1000000000  (discontinued)",
		""}, "\n")
	if got := string(appendCatalog(nil, ps, true)); got != manager {
		t.Errorf("manager catalog:\n%s\nwant:\n%s", got, manager)
	}
}

func TestShownMakesNamesUnambiguous(t *testing.T) {
	for in, want := range map[string]string{
		"alice":           "alice",
		"Zoë Ünal":        "Zoë Ünal",
		"alice\u200d":     "alice<U+200D>",
		"alice\u034f":     "alice<U+034F>",
		"\u3164":          "<U+3164>",
		"\u202eecila":     "<U+202E>ecila",
		"a\u200bb\ufe0fc": "a<U+200B>b<U+FE0F>c",
		"bad\xffbyte":     "bad\uFFFDbyte",
		"Ada\x1b[31m":     "Ada<U+001B>[31m",
	} {
		if got := shown(in); got != want {
			t.Errorf("shown(%q) = %q, want %q", in, got, want)
		}
	}
}
