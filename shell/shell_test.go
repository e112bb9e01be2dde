package shell_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/sqlite"
)

// mustOpenStore opens a new SQLite store with two products: #1 Blue Mug (12.50, 5 in
// stock) and #2 Notebook (6.90, 50).
func mustOpenStore(tb testing.TB) storify.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "shell.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	for _, p := range []storify.NewProduct{
		{Name: "Blue Mug", Description: "A sturdy mug.", Price: 1250, Stock: 5},
		{Name: "Notebook", Description: "Dotted paper.", Price: 690, Stock: 50},
	} {
		if _, err := s.AddProduct(context.Background(), p); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// shop runs a customer session over the given input lines and returns its output.
func shop(t *testing.T, store storify.Store, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, 1024)
	c := shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test"})
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return out.String()
}

// wantContains checks that out holds each of wants, in any order; runs of spaces
// count as one, so column widths may change without breaking the test.
func wantContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	squeeze := func(s string) string { return spaces.ReplaceAllString(s, " ") }
	for _, w := range wants {
		if !strings.Contains(squeeze(out), squeeze(w)) {
			t.Errorf("output lacks %q; output:\n%s", w, out)
		}
	}
}

var spaces = regexp.MustCompile(` {2,}`)

func TestCustomerShops(t *testing.T) {
	store := mustOpenStore(t)
	out := shop(t, store,
		"list",
		"add blue mug 2",
		`add "Notebook"`,
		"add 2",
		"cart",
		"checkout Ada Lovelace",
		"orders",
		"cart",
	)
	wantContains(t, out,
		"Test> ",
		"1  Blue Mug       12.50  5 left",
		"Added 2 Blue Mug to your cart (2 in cart, 12.50 each).",
		"Added 1 Notebook to your cart (1 in cart, 6.90 each).",
		"Added 1 Notebook to your cart (2 in cart, 6.90 each).",
		"Total       38.80",
		"Thank you, Ada Lovelace. Order #1 is placed: 4 units, total 38.80.",
		"Order #1 for Ada Lovelace, placed",
		"Your cart is empty.",
	)
	if out := shop(t, store, "list", "list"); strings.Count(out, "Type show N for details") != 1 {
		t.Errorf("the catalog hint is not shown exactly once a session:\n%s", out)
	}
	p, err := store.Product(context.Background(), 1)
	if err != nil || p.Stock != 3 {
		t.Errorf("Blue Mug stock = %d, %v; want 3", p.Stock, err)
	}
}

func TestCustomerPromptsForMissingArguments(t *testing.T) {
	store := mustOpenStore(t)
	out := shop(t, store, "add", "notebook", "checkout", "Grace")
	wantContains(t, out,
		"Product (number or name): ",
		"Added 1 Notebook",
		"Your name: ",
		"Thank you, Grace. Order #1 is placed",
	)
	out = shop(t, store, "show", "")
	wantContains(t, out, "Product (number or name): Cancelled.")
}

func TestCustomerErrors(t *testing.T) {
	store := mustOpenStore(t)
	tests := []struct {
		line, want string
	}{
		{"add mug", `There is no product "mug"; type list to see the catalog.`},
		{"add 99", "There is no product #99; type list to see the catalog."},
		{"add 1 6", "Only 5 Blue Mug left."},
		{"add 1 0", `"0" is not a quantity: type a whole number from 1 to 10000.`},
		{"add 1 -3", `"-3" is not a quantity`},
		{"add 1 1e3", `"1e3" is not a quantity`},
		{"add 1 99999999999999999999", `is not a quantity`},
		{"remove 1", "Blue Mug is not in your cart."},
		{"checkout Bob", "Your cart is empty; add something first."},
		{"checkout", "Test> Your cart is empty; add something first.\nTest> "},
		{"lsit", `Unknown command "lsit". Did you mean list?`},
		{"frobnicate", `Unknown command "frobnicate". Type help to list commands.`},
		{`add "Blue Mug`, "Missing closing \" quote."},
		{"addproduct x 1 1", `Unknown command "addproduct"`},
		{"checkout " + strings.Repeat("n", 61), "Your cart is empty"},
		{"add 1\ncheckout " + strings.Repeat("n", 61), "The customer name is longer than 60 characters."},
		{"add 1\ncheckout 42", "The customer name must not be a number."},
		{"add " + strings.Repeat("x", 500), `There is no product "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"`},
		{"show x'; DROP TABLE products; --", `There is no product "x'; DROP TABLE products; --"`},
		{"show 'Blue Mug", "Missing closing ' quote."},
	}
	for _, tt := range tests {
		out := shop(t, store, tt.line)
		wantContains(t, out, tt.want)
	}
	if _, err := store.Discontinue(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	wantContains(t, shop(t, store, "add notebook"), "Notebook is no longer sold.")
	wantContains(t, shop(t, store, "show 2"), "No longer sold.")
	if out := shop(t, store, "list"); strings.Contains(out, "Notebook") {
		t.Errorf("a discontinued product is listed:\n%s", out)
	}
	ps, _ := store.Products(context.Background(), storify.ProductFilter{All: true})
	if len(ps) != 2 || ps[0].Stock != 5 {
		t.Errorf("bad commands changed the catalog: %+v", ps)
	}
}

func TestCheckoutShortStockKeepsCart(t *testing.T) {
	store := mustOpenStore(t)
	ctx := context.Background()
	var out bytes.Buffer
	in := &scriptReader{lines: []string{"add 1 4", "add 2"}}
	term := shell.NewLineTerm(in, &out, 1024)
	c := shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test"})
	in.then = func() {
		// Someone else buys 3 mugs while this customer's cart holds 4.
		if _, err := store.Checkout(ctx, storify.NewOrder{Customer: "Rival", Items: []storify.CartItem{{ProductID: 1, Qty: 3}}}); err != nil {
			t.Error(err)
		}
		in.lines = []string{"checkout Zed", "cart"}
		in.then = nil
	}
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	term.Flush()
	wantContains(t, out.String(),
		"No order was placed: only 2 Blue Mug left. Your cart is unchanged.",
		"Note: Only 2 Blue Mug left.",
	)
	if n := c.CartUnits(); n != 5 {
		t.Errorf("cart units = %d, want 5", n)
	}
	if p, _ := store.Product(ctx, 2); p.Stock != 50 {
		t.Errorf("Notebook stock = %d, want 50: a failed checkout took stock", p.Stock)
	}
}

// scriptReader serves lines, then calls then (which may add lines), then ends.
type scriptReader struct {
	lines []string
	buf   []byte
	then  func()
}

func (r *scriptReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if len(r.lines) == 0 {
			if r.then == nil {
				return 0, io.EOF
			}
			r.then()
			continue
		}
		r.buf, r.lines = []byte(r.lines[0]+"\n"), r.lines[1:]
	}
	n := copy(p, r.buf[:1])
	r.buf = r.buf[n:]
	return n, nil
}

func TestHelpIsGeneratedFromTheTable(t *testing.T) {
	store := mustOpenStore(t)
	out := shop(t, store, "help", "? add", "help nosuch")
	for _, cmd := range []string{"list", "search TEXT", "show PRODUCT", "add PRODUCT [QTY]", "remove PRODUCT [QTY]",
		"cart", "checkout [NAME]", "orders", "order N", "register NAME", "login NAME", "logout", "whoami", "quit", "help [COMMAND]"} {
		wantContains(t, out, "  "+cmd+" ")
	}
	wantContains(t, out, "add PRODUCT [QTY]\n  put QTY units (default 1) of a product in your cart\n", `Unknown command "nosuch"`)
}

func TestQuitEndsSession(t *testing.T) {
	store := mustOpenStore(t)
	out := shop(t, store, "quit", "list")
	wantContains(t, out, "Goodbye")
	if strings.Contains(out, "Blue Mug") {
		t.Errorf("a command after quit ran:\n%s", out)
	}
}

// TestCatalogCacheSeesChanges: sessions share a rendered catalog, and a change to
// the catalog shows at once.
func TestCatalogCacheSeesChanges(t *testing.T) {
	store := mustOpenStore(t)
	cache := &shell.CatalogCache{}
	list := func() string {
		var out bytes.Buffer
		term := shell.NewLineTerm(strings.NewReader("list\n"), &out, 1024)
		shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test", Catalog: cache}).Run(context.Background())
		term.Flush()
		return out.String()
	}
	wantContains(t, list(), "1  Blue Mug       12.50  5 left")
	wantContains(t, list(), "1  Blue Mug       12.50  5 left")
	if _, err := store.SetPrice(context.Background(), 1, 999); err != nil {
		t.Fatal(err)
	}
	wantContains(t, list(), "1  Blue Mug        9.99  5 left")
	if _, err := store.Checkout(context.Background(), storify.NewOrder{Customer: "X", Items: []storify.CartItem{{ProductID: 1, Qty: 5}}}); err != nil {
		t.Fatal(err)
	}
	wantContains(t, list(), "1  Blue Mug        9.99  sold out")
}
