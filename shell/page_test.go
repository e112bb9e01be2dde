package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/sqlite"
)

// screenTerm is a LineTerm on a screen of a given height, as a telnet session is.
type screenTerm struct {
	*shell.LineTerm
	rows int
}

func (t screenTerm) ScreenRows() int { return t.rows }

// mustOpenCatalog opens a store of n products named "Item 0001" and so on, at
// 1.00 to n.00, with orders placed by account "ada" when orders > 0.
func mustOpenCatalog(tb testing.TB, n int) storify.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "pages.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	for i := 1; i <= n; i++ {
		_, err := s.AddProduct(context.Background(), storify.NewProduct{
			Name: fmt.Sprintf("Item %04d", i), Price: storify.Cents(i * 100), Stock: 100})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// run runs a session (customer or manager) on a screen of rows lines (none when
// rows < 0) and returns its output after each prompt, one reply per line sent.
func run(t *testing.T, store storify.Store, manager bool, rows int, lines ...string) []string {
	t.Helper()
	var out bytes.Buffer
	lt := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, 1024)
	var term shell.Term = lt
	if rows >= 0 {
		term = screenTerm{lt, rows}
	}
	var err error
	if manager {
		err = shell.NewManager(store, nil, term, shell.ManagerConfig{StoreName: "Test"}).Run(context.Background())
	} else {
		err = shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test"}).Run(context.Background())
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	lt.Flush()
	prompt := "Test> "
	if manager {
		prompt = "Test manager> "
	}
	replies := strings.Split(out.String(), prompt)
	return replies[1:] // before the first prompt: nothing
}

// rowsOf counts the product rows ("  12  Item 0012 ...") in a reply.
func rowsOf(reply string) (first, n int) {
	for _, l := range strings.Split(reply, "\n") {
		var id int
		if _, err := fmt.Sscanf(strings.TrimSpace(l), "%d", &id); err == nil && strings.Contains(l, "Item ") {
			if n == 0 {
				first = id
			}
			n++
		}
	}
	return first, n
}

func TestCatalogPages(t *testing.T) {
	store := mustOpenCatalog(t, 45)
	// Without a window size: 20 rows a page. Enter right after a page is next.
	r := run(t, store, false, 0, "list", "", "", "", "prev", "list 2", "next", "list 4", "page 1", "show 3", "", "next", "prev", "prev", "prev")
	tests := []struct {
		first, n int
		has      string
	}{
		{1, 20, "products 1–20 of 45. Type next (or just Enter) for more, list PAGE to go to a page."},
		{21, 20, "products 21–40 of 45."},
		{41, 5, "products 41–45 of 45, the last page. Type prev to go back, list PAGE to go to a page."},
		{0, 0, ""}, // Enter after the last page does nothing
		{21, 20, "products 21–40 of 45."},
		{21, 20, "products 21–40 of 45."},
		{41, 5, "the last page"},
		{0, 0, "There are only 3 pages of products; type list PAGE with a page from 1 to 3."},
		{1, 20, "products 1–20 of 45."},
		{0, 0, "#3 Item 0003"},
		{0, 0, ""},                        // Enter after another command does nothing
		{21, 20, "products 21–40 of 45."}, // next still knows the list
		{1, 20, "products 1–20 of 45."},
		{0, 0, "This is the first page of products."},
	}
	for i, tt := range tests {
		first, n := rowsOf(r[i])
		if first != tt.first || n != tt.n || !strings.Contains(r[i], tt.has) {
			t.Errorf("reply %d: rows from #%d, %d of them, want #%d, %d, and %q; reply:\n%s", i, first, n, tt.first, tt.n, tt.has, r[i])
		}
	}
	if !strings.Contains(r[0], "Type show N for details") || strings.Contains(r[1], "Type show N") {
		t.Errorf("the hint should follow the first page only:\n%s\n%s", r[0], r[1])
	}
	// next at the last page says so.
	r = run(t, store, false, 0, "list 3", "next")
	if !strings.Contains(r[1], "That was the last page of products.") {
		t.Errorf("next after the last page: %s", r[1])
	}
}

func TestPageFitsWindow(t *testing.T) {
	store := mustOpenCatalog(t, 45)
	for _, tt := range []struct{ rows, want int }{{24, 20}, {50, 45}, {12, 8}, {3, 5}} {
		r := run(t, store, false, tt.rows, "list")
		if _, n := rowsOf(r[0]); n != tt.want {
			t.Errorf("a %d-line window: %d rows, want %d:\n%s", tt.rows, n, tt.want, r[0])
		}
		if lines := strings.Count(r[0], "\n"); tt.want < 45 && lines+1 > max(tt.rows, 5+4) {
			t.Errorf("a %d-line window: %d lines and the prompt do not fit:\n%s", tt.rows, lines, r[0])
		}
	}
}

func TestNotPagedWithoutScreen(t *testing.T) {
	store := mustOpenCatalog(t, 45)
	for _, manager := range []bool{false, true} {
		cmd := "list"
		if manager {
			cmd = "products"
		}
		r := run(t, store, manager, -1, cmd, "next")
		if _, n := rowsOf(r[0]); n != 45 || strings.Contains(r[0], " of 45") {
			t.Errorf("manager %v: a pipe gets %d rows, want all 45 with no page line:\n%s", manager, n, r[0])
		}
		if !strings.Contains(r[1], "That was the last page of products.") {
			t.Errorf("manager %v: next after everything: %s", manager, r[1])
		}
	}
}

func TestSearchAndManagerListsPaged(t *testing.T) {
	store := mustOpenCatalog(t, 45)
	r := run(t, store, false, 0, "search item", "", "page 3")
	for i, want := range []string{"products found 1–20 of 45.", "products found 21–40 of 45.", "products found 41–45 of 45, the last page"} {
		if !strings.Contains(r[i], want) {
			t.Errorf("search reply %d lacks %q:\n%s", i, want, r[i])
		}
	}
	r = run(t, store, true, 0, "products 3", "prev", "n")
	for i, want := range []string{"products 41–45 of 45, the last page", "products 21–40 of 45.", "products 41–45 of 45"} {
		if !strings.Contains(r[i], want) || !strings.Contains(r[i], "Stock") {
			t.Errorf("products reply %d lacks %q:\n%s", i, want, r[i])
		}
	}
}

// pagesOnly is a store that refuses to hand out a whole list of products: what a
// catalog of 100,000 products must not be read as for each page a customer sees.
type pagesOnly struct {
	storify.Store
	pages []string // the pages read, "from-to"
}

func (s *pagesOnly) Products(ctx context.Context, f storify.ProductFilter) ([]storify.Product, error) {
	if f.Search != "" {
		return s.Store.Products(ctx, f) // a search makes its own list
	}
	return nil, fmt.Errorf("the whole list of products was read (%+v)", f)
}

func (s *pagesOnly) ProductsPage(ctx context.Context, f storify.ProductFilter, from, to int) ([]storify.Product, int, error) {
	s.pages = append(s.pages, fmt.Sprintf("%d-%d", from, to))
	return s.Store.ProductsPage(ctx, f, from, to)
}

// A customer's list and list CATEGORY, and the manager's products, read the page
// they show, and no more: the rows of a page a screen holds.
func TestListsReadOnlyTheirPage(t *testing.T) {
	base := mustOpenCatalog(t, 45)
	if _, err := base.SetCategory(context.Background(), 3, "Mugs"); err != nil {
		t.Fatal(err)
	}
	store := &pagesOnly{Store: base}
	r := run(t, store, false, 24, "list", "next", "list 3", "list mugs")
	for i, want := range []string{"products 1–20 of 45.", "products 21–40 of 45.", "products 41–45 of 45", "Item 0003"} {
		if !strings.Contains(r[i], want) || strings.Contains(r[i], "went wrong") {
			t.Errorf("reply %d lacks %q:\n%s", i, want, r[i])
		}
	}
	r = run(t, store, true, 24, "products 2")
	if !strings.Contains(r[0], "products 21–40 of 45.") {
		t.Errorf("the manager's products 2:\n%s", r[0])
	}
	for _, p := range store.pages {
		var from, to int
		if _, err := fmt.Sscanf(p, "%d-%d", &from, &to); err != nil || to-from > 20 {
			t.Errorf("a page of %s was read; want at most the 20 rows shown", p)
		}
	}
}

func TestOrdersPaged(t *testing.T) {
	store := mustOpenCatalog(t, 3)
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		if _, err := store.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: 1, Qty: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, store, true, 0, "orders", "")
	if !strings.Contains(r[0], "orders 1–20 of 25.") || !strings.Contains(r[0], "#25") || strings.Contains(r[0], "#5 ") {
		t.Errorf("first page of orders, newest first:\n%s", r[0])
	}
	if !strings.Contains(r[1], "orders 21–25 of 25, the last page") || !strings.Contains(r[1], "#1 ") {
		t.Errorf("second page of orders:\n%s", r[1])
	}
	r = run(t, store, true, -1, "orders")
	if strings.Count(r[0], "Ada") != 25 {
		t.Errorf("a pipe gets every order:\n%s", r[0])
	}
}
