package shell_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storify/storify"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Each way a catalog file can be wrong is reported with its line, and the store
// is left as it was.
func TestImportRefusesBadFiles(t *testing.T) {
	const header = "name,price,stock,description,category\n"
	tests := []struct {
		name, file string
		wants      []string
	}{
		{"bad price", header + "Plate,5.00,3,,\nCup,12.5O,3,,\n", []string{`line 3: "12.5O" is not a price`}},
		{"negative stock", header + "Plate,5.00,-3,,\n", []string{`line 2: "-3" is not a stock`}},
		{"duplicate name", header + "Plate,5.00,3,,\nBowl,1,1,,\nPLATE,6.00,3,,\n", []string{`line 4: "PLATE" is named on line 2 already`}},
		{"a name already taken by two rows", header + "blue mug,5.00,3,,\nBlue Mug,6.00,3,,\n", []string{"line 3:"}},
		{"wrong column count", header + "Plate,5.00,3\nBowl,1,1,,,extra\n", []string{"line 2: 3 columns, but the header has 5", "line 3: 6 columns"}},
		{"invalid UTF-8", header + "Pl\xe9te,5.00,3,,\n", []string{"line 2: column 1 is not UTF-8 text"}},
		{"not CSV", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\"x\"y", []string{"line 1:"}},
		{"no header", "Plate,5.00,3,,\n", []string{`line 1: the first line must name the columns (name,price,stock,description,category); "name" is missing`}},
		{"empty", "", []string{"line 1: the file is empty"}},
		{"every bad row", header + "A,x,1,,\nB,1,y,,\n,1,1,,\nD,1,1,\x1b[2J,\n", []string{"line 2:", "line 3:", "line 4: the product name is empty", "line 5: the description has characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := mustOpenStore(t)
			before, _ := store.Products(context.Background(), storify.ProductFilter{All: true})
			path := writeFile(t, "c.csv", tt.file)
			out := manage(t, store, nil, "import "+path, "yes", "products")
			wantContains(t, out, tt.wants...)
			wantContains(t, out, "nothing was imported")
			after, _ := store.Products(context.Background(), storify.ProductFilter{All: true})
			if len(after) != len(before) || after[0] != before[0] {
				t.Errorf("the store changed: %+v", after)
			}
		})
	}
}

func TestImportAndExport(t *testing.T) {
	store := mustOpenStore(t) // Blue Mug 12.50 x5, Notebook 6.90 x50
	path := writeFile(t, "c.csv", "\ufeffName,Price,Stock,Description,Category,Notes\r\n"+
		"Blue Mug,13.00,10,\"Stoneware, 300 ml.\",Kitchen,ignored\r\n"+
		"Notebook,6.90,50,Dotted paper.,,\r\n"+
		"\"Crème \"\"Brûlée\"\" Set\",24.00,4,Six ramekins.,kitchen,\r\n")
	out := manage(t, store, nil, "import "+path, "no", "import "+path, "yes", "import "+path)
	wantContains(t, out,
		"3 rows checked: it would add 1, change 1, and leave 1 unchanged.",
		"Nothing was imported.",
		"Imported 3 rows: 1 added, 1 changed, 1 unchanged.",
		"3 rows checked: it would add 0, change 0, and leave 3 unchanged.\nNothing to change.",
	)
	p, err := store.ProductByName(context.Background(), `Crème "Brûlée" Set`)
	if err != nil || p.Price != 2400 || p.Stock != 4 || p.Category != "Kitchen" {
		t.Errorf("imported = %+v, %v", p, err)
	}

	dir := t.TempDir()
	out = manage(t, store, nil, "export products "+filepath.Join(dir, "p.csv"), "export sales "+filepath.Join(dir, "s.csv"),
		"export orders "+filepath.Join(dir, "o.csv"), "export cats "+filepath.Join(dir, "x.csv"))
	wantContains(t, out, "Wrote 3 rows to", "Wrote 0 rows to", `"cats" cannot be exported`)
	f, err := os.Open(filepath.Join(dir, "p.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[3], "|") != `3|Crème "Brûlée" Set|24.00|4|Six ramekins.|Kitchen|false` {
		t.Errorf("exported products = %q, %v", recs, err)
	}
	// What export writes, import reads back: nothing changes.
	out = manage(t, store, nil, "import "+filepath.Join(dir, "p.csv"))
	wantContains(t, out, "3 rows checked: it would add 0, change 0, and leave 3 unchanged.")
}
