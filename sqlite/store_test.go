package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/sqlite"
	"github.com/storify/storify/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storify.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "s.db"))
	})
}

// mustOpen opens the store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatalf("Open(%q): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawDB opens the file with the driver alone, to look at what the store wrote.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type migrationRow struct {
	version   int
	appliedAt int64
}

func migrationRows(t *testing.T, path string) []migrationRow {
	t.Helper()
	rows, err := rawDB(t, path).Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var ms []migrationRow
	for rows.Next() {
		var m migrationRow
		if err := rows.Scan(&m.version, &m.appliedAt); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

// A restarted store has the products and orders it had, and does not migrate again.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Description: "tea", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	before := migrationRows(t, path)
	if len(before) == 0 || before[0].version != 1 {
		t.Fatalf("schema_migrations after the first Open = %+v, want version 1 first", before)
	}

	s = mustOpen(t, path)
	got, err := s.Product(ctx, mug.ID)
	if err != nil {
		t.Fatalf("Product after reopening: %v", err)
	}
	mug.Stock = 3
	if got != mug {
		t.Errorf("Product after reopening = %+v, want %+v", got, mug)
	}
	gotOrder, err := s.Order(ctx, o.ID)
	if err != nil {
		t.Fatalf("Order after reopening: %v", err)
	}
	if gotOrder.ID != o.ID || gotOrder.Customer != o.Customer || gotOrder.Total != o.Total ||
		!gotOrder.Placed.Equal(o.Placed) || fmt.Sprint(gotOrder.Lines) != fmt.Sprint(o.Lines) {
		t.Errorf("Order after reopening = %+v, want %+v", gotOrder, o)
	}
	if gotOrder.Placed.Location() != o.Placed.Location() {
		t.Errorf("Order after reopening placed in %v, want %v", gotOrder.Placed.Location(), o.Placed.Location())
	}

	// New orders continue the numbering.
	o2, err := s.Checkout(ctx, storify.NewOrder{Customer: "Bob", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if o2.ID <= o.ID {
		t.Errorf("order after reopening is #%d, want after #%d", o2.ID, o.ID)
	}

	if after := migrationRows(t, path); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("reopening changed schema_migrations from %+v to %+v", before, after)
	}
}

func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	mustOpen(t, path)
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	ms := migrationRows(t, path)
	if len(ms) != len(files) || ms[0].version != 1 {
		t.Errorf("schema_migrations = %+v, want one row for each of %v, from version 1", ms, files)
	}
	for _, m := range ms {
		if m.appliedAt <= 0 {
			t.Errorf("migration %d recorded without its time", m.version)
		}
	}
}

// A program must not run on a schema that a newer one changed.
func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := mustOpen(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.Open(path); err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
}

func TestWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	mustOpen(t, path)
	var mode string
	if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestOpenBadPath(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", ":memory:", dir, filepath.Join(dir, "no", "such", "dir", "s.db"), filepath.Join(dir, "a?b.db")} {
		if s, err := sqlite.Open(path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// Two stores on one file, as two processes would be, still sell each unit once:
// BEGIN IMMEDIATE and busy_timeout make their writers take turns. (Each store's copy
// of the catalog misses the other's writes, so the stock is read from the file.)
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	a, b := mustOpen(t, path), mustOpen(t, path)
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}

	const buyers = 30
	var wg sync.WaitGroup
	errs := make([]error, buyers)
	for i := range buyers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, errs[i] = s.Checkout(ctx, storify.NewOrder{Customer: fmt.Sprintf("Buyer %d", i), Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch storify.ErrorCode(err) {
		case "":
			ok++
		case storify.ECONFLICT:
		default:
			t.Errorf("buyer %d: %v", i, err)
		}
	}
	if ok != 10 {
		t.Errorf("%d checkouts succeeded, want 10", ok)
	}
	var stock int
	if err := rawDB(t, path).QueryRow(`SELECT stock FROM products WHERE id = ?`, mug.ID).Scan(&stock); err != nil || stock != 0 {
		t.Errorf("stock %d, %v; want 0", stock, err)
	}
}

// BenchmarkCheckout measures one customer checking out after another: each checkout
// is a group of one, so this is bound by the disk's sync rate.
func BenchmarkCheckout(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, filepath.Join(b.TempDir(), "s.db"))
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: storify.MaxStock})
	if err != nil {
		b.Fatal(err)
	}
	items := []storify.CartItem{{ProductID: mug.ID, Qty: 1}}
	for b.Loop() {
		if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: items}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckoutParallel measures checkouts from many customers at once (50 per
// CPU), which the committer commits in groups, one sync to disk per group.
func BenchmarkCheckoutParallel(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, filepath.Join(b.TempDir(), "s.db"))
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: storify.MaxStock})
	if err != nil {
		b.Fatal(err)
	}
	items := []storify.CartItem{{ProductID: mug.ID, Qty: 1}}
	b.SetParallelism(50)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: items}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProducts measures listing a catalog of 20 products that nothing changes,
// as customers browsing do most of the time.
func BenchmarkProducts(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, filepath.Join(b.TempDir(), "s.db"))
	for i := range 20 {
		if _, err := s.AddProduct(ctx, storify.NewProduct{
			Name: fmt.Sprintf("Mug no. %d", i), Description: "a mug", Price: 1250, Stock: 100,
		}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		ps, err := s.Products(ctx, storify.ProductFilter{})
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) != 20 {
			b.Fatalf("%d products, want 20", len(ps))
		}
	}
}
