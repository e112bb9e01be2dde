package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/sqlite"
)

// While another process holds the file's write lock past the budget, writes and
// checkouts answer within it that the store cannot reach its database, nothing is
// placed, reads go on, and once the lock is released the store writes again.
func TestLockedPastBudgetIsUnavailable(t *testing.T) {
	const budget = 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlite.Open(path, sqlite.Options{Timeout: budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}

	other := rawDB(t, path)
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	calls := map[string]func() error{
		"Restock": func() error { _, err := s.Restock(ctx, mug.ID, 1); return err },
		"Checkout": func() error {
			_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
			return err
		},
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, storify.ErrUnavailable) {
				t.Errorf("%s while the file is locked past the budget: %v, want storify.ErrUnavailable", name, err)
			}
		case <-time.After(10 * budget):
			t.Fatalf("%s still waits after %v; the budget is %v", name, 10*budget, budget)
		}
	}
	if p, err := s.Product(ctx, mug.ID); err != nil || p.Stock != 10 {
		t.Errorf("Product while the file is locked = %+v, %v; want Blue Mug with 10, unchanged", p, err)
	}

	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}}); err != nil {
		t.Errorf("Checkout once the lock is released: %v", err)
	}
	if os, _ := s.Orders(ctx, storify.OrderFilter{}); len(os) != 1 {
		t.Errorf("%d orders, want 1", len(os))
	}
}

// TestImportOutlastsTheCallBudget: an import of a whole catalog gets
// storify.ImportBudget, not the budget of one ordinary call, so that the console's
// import of a large file is not cut off by --db-timeout.
func TestImportOutlastsTheCallBudget(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "import.db"), sqlite.Options{Timeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := make([]storify.ProductRow, 20_000)
	for i := range rows {
		rows[i] = storify.ProductRow{Line: i + 2, Name: fmt.Sprintf("Product %06d", i+1), Price: 100, Stock: 5}
	}
	start := time.Now()
	res, err := s.ImportProducts(context.Background(), rows, false)
	if err != nil {
		t.Fatalf("import of 20,000 rows with a 5 ms call budget, after %v: %v", time.Since(start), err)
	}
	t.Logf("imported %+v in %v", res, time.Since(start))
}
