package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	testAdjectives = []string{"Blue", "Red", "Green", "Large", "Small", "Steel", "Oak", "Glass", "Linen", "Copper", "Matte", "Crème"}
	testNouns      = []string{"Mug", "Plate", "Bowl", "Lamp", "Pen", "Notebook", "Chair", "Towel", "Kettle", "Vase", "Basket", "Clock"}
)

// testProductName is the name writeCatalogCSV gives product i.
func testProductName(i int) string {
	return fmt.Sprintf("%s %s %s %06d", testAdjectives[i%len(testAdjectives)], testAdjectives[(i/7)%len(testAdjectives)],
		testNouns[(i/3)%len(testNouns)], i)
}

// writeCatalogCSV writes a catalog file of n products, in categories named for
// their nouns, as a shop's spreadsheet would.
func writeCatalogCSV(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(bufio.NewWriter(f))
	w.Write([]string{"name", "price", "stock", "description", "category"})
	for i := 1; i <= n; i++ {
		noun := testNouns[(i/3)%len(testNouns)]
		w.Write([]string{
			testProductName(i),
			fmt.Sprintf("%d.%02d", 1+i%200, i%100), fmt.Sprint(i % 50),
			fmt.Sprintf("A %s %s for every day.", strings.ToLower(testAdjectives[(i/11)%len(testAdjectives)]), strings.ToLower(testNouns[(i/13)%len(testNouns)])),
			noun + "s",
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLargeCatalogOverTelnet imports 100,000 products from a CSV file with storify
// import and shops in them over TCP as a customer would: every reply is a page, a
// few KB, however big the catalog. Under the race detector, which makes the import
// alone take a minute, the catalog has 10,000.
func TestLargeCatalogOverTelnet(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 products")
	}
	n := 100_000
	if raceEnabled {
		n = 10_000
	}
	thousands := func(n int) string { // 100,000
		s := fmt.Sprint(n)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	dir := t.TempDir()
	db, file := filepath.Join(dir, "big.db"), filepath.Join(dir, "catalog.csv")
	writeCatalogCSV(t, file, n)
	var out bytes.Buffer
	start := time.Now()
	if err := runImport(context.Background(), []string{"--db", db, file}, &out, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	t.Logf("imported %d rows in %v", n, time.Since(start))
	if !strings.Contains(out.String(), fmt.Sprintf("Imported %d rows: %d added, 0 changed, 0 unchanged.", n, n)) {
		t.Fatalf("import said: %s", out.String())
	}
	// Again, dry: nothing would change.
	out.Reset()
	if err := runImport(context.Background(), []string{"--db", db, "--dry-run", file}, &out, &out); err != nil ||
		!strings.Contains(out.String(), fmt.Sprintf("it would add 0, change 0, and leave %d unchanged", n)) {
		t.Fatalf("dry run: %v: %s", err, out.String())
	}

	c := startChild(t, db)
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	read := func() string {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		var b strings.Builder
		for !strings.HasSuffix(b.String(), "Test> ") {
			ch, err := r.ReadByte()
			if err != nil {
				t.Fatalf("reading: %v; got %q", err, b.String())
			}
			b.WriteByte(ch)
		}
		return b.String()
	}
	read() // the greeting
	const maxReply = 4 << 10
	for _, step := range []struct {
		send  string
		wants []string
	}{
		{"list", []string{testProductName(1), "products 1–20 of " + thousands(n) + ". Type next (or just Enter) for more, list PAGE to go to a page."}},
		{"", []string{testProductName(21), "products 21–40 of " + thousands(n) + "."}},
		{fmt.Sprint("list ", n/20), []string{testProductName(n - 2), "products " + thousands(n-19) + "–" + thousands(n) + " of " + thousands(n) + ", the last page."}},
		{"search kettle 004", []string{"Kettle 004", "products found 1–20 of"}},
		{"search blue mug", []string{"Price\r\n  1  Red Blue Mug 000001", "products found 1–20 of"}},
		{"search ketle", []string{`Nothing matches "ketle". Did you mean kettle? Here is what that finds:`, "Kettle 000024"}},
		{"categories", []string{"Baskets", fmt.Sprint(n / 12), "Vases"}},
		{"list mugs 2", []string{"products in Mugs 21–40 of " + thousands(n/12) + "."}},
		{"show 24", []string{"Category: Kettles"}},
	} {
		fmt.Fprintf(conn, "%s\r\n", step.send)
		got := read()
		for _, w := range step.wants {
			if !strings.Contains(got, w) {
				t.Errorf("%q: reply lacks %q:\n%s", step.send, w, got)
			}
		}
		if len(got) > maxReply {
			t.Errorf("%q: a reply of %d bytes, want at most %d", step.send, len(got), maxReply)
		}
	}
}
