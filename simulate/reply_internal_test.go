package simulate

import (
	"slices"
	"testing"
)

// TestParseCatalog: the simulation reads the customer catalog as the store writes
// it: "3 left", "sold out", or nothing said for plenty.
func TestParseCatalog(t *testing.T) {
	ps, err := parseCatalog([]string{
		" #  Product     Price",
		" 1  Blue Mug    12.50  5 left",
		" 9  Tea Towel    4.50  sold out",
		"10  Model 3      0.05",
	})
	want := []product{{id: 1, name: "Blue Mug", stock: 5}, {id: 9, name: "Tea Towel"}, {id: 10, name: "Model 3", stock: plenty}}
	if err != nil || !slices.Equal(ps, want) {
		t.Errorf("parseCatalog = %+v, %v; want %+v", ps, err, want)
	}
	if _, err := parseCatalog([]string{" #  Product  Price", " 1  Mug  1.00  many"}); err == nil {
		t.Errorf("a row with stock %q was accepted", "many")
	}
}

// A page of a long list ends with where it is; the customer reads the rows and
// does not take the page for the whole catalog.
func TestPagedReplies(t *testing.T) {
	c := &customer{names: map[int64]string{}}
	lines := []string{"  #  Product  Price", " 21  Mug     1.00", " 22  Pen     2.00  3 left",
		"products 21–22 of 1,200. Type next (or just Enter) for more, prev to go back, list PAGE to go to a page."}
	if o, err := c.handleList(lines); err != nil || o != succeeded || len(c.catalog) != 2 {
		t.Errorf("a page: %v, %v; catalog %+v", o, err, c.catalog)
	}
	search := []string{`Nothing matches "mgu". Did you mean mug? Here is what that finds:`, "  #  Product  Price", " 21  Mug     1.00"}
	if o, err := c.handle(command{a: actSearch}, search); err != nil || o != succeeded {
		t.Errorf("a corrected search: %v, %v", o, err)
	}
}
