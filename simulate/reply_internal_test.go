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
