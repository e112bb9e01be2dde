package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// eventually calls check until it succeeds, and fails the test with its last error if
// it has not within two seconds: for what happens in the background, such as the
// listener connecting again.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	const patience = 2 * time.Second
	deadline := time.Now().Add(patience)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s, still after %v: %v", what, patience, err)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// waitListening waits until each store's listener is LISTENing, so that its reads
// are served from its copy of the catalog: a test of that copy must not pass only
// because every read went to the database.
func waitListening(tb testing.TB, stores ...*postgres.Store) {
	tb.Helper()
	for i, s := range stores {
		if !postgres.WaitListening(s, 10*time.Second) {
			tb.Fatalf("store %d: the listener is not listening after 10s", i+1)
		}
	}
}

// listeners returns the backend pids of the listeners whose connections are tagged
// with application name app (a store's listener has its pool's name and " listener").
func listeners(t *testing.T, admin *pgx.Conn, app string) []int32 {
	t.Helper()
	rows, _ := admin.Query(context.Background(), `
		SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1 || ' listener'`, app)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatalf("find listeners: %v", err)
	}
	return pids
}

// The catalog is handed out from one shared copy while nothing changes, and a write
// through the store shows in its very next read, before any notification.
func TestCatalogCopyIsSharedAndReadsOwnWrites(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, newSchema(t).dsn)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, s)

	first, err := s.Products(ctx, storify.ProductFilter{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Products(ctx, storify.ProductFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || len(second) != 1 || &first[0] != &second[0] {
		t.Errorf("two listings with no change between: %p and %p, want one shared slice", first, second)
	}

	for i, change := range []func() (storify.Product, error){
		func() (storify.Product, error) { return s.Restock(ctx, mug.ID, 2) },
		func() (storify.Product, error) { return s.SetPrice(ctx, mug.ID, 999) },
		func() (storify.Product, error) {
			o, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 3}}})
			if err != nil {
				return storify.Product{}, err
			}
			mug.Stock -= 3
			if _, err := s.Cancel(ctx, o.ID); err != nil {
				return storify.Product{}, err
			}
			mug.Stock += 3
			return mug, nil
		},
		func() (storify.Product, error) { return s.Discontinue(ctx, mug.ID) },
	} {
		if mug, err = change(); err != nil {
			t.Fatalf("change %d: %v", i+1, err)
		}
		if got, err := s.Product(ctx, mug.ID); err != nil || got != mug {
			t.Errorf("change %d: Product right after = %+v, %v; want %+v", i+1, got, err, mug)
		}
	}
	if ps, err := s.Products(ctx, storify.ProductFilter{}); err != nil || len(ps) != 0 {
		t.Errorf("Products right after Discontinue = %+v, %v; want none", ps, err)
	}
}

// When the database drops the listener's connection, the notifications sent meanwhile
// are lost; the store must not go on trusting its copy. A change through the other
// instance shows at once, while the listener is away and once it is back.
func TestListenerLostLeavesNoStaleCatalog(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	a := mustOpen(t, sc.dsn)
	bName := sc.name + "_b" // b's listener must survive: it has its own name
	b := mustOpen(t, withParams(t, sc.dsn, map[string]string{"application_name": bName}))
	admin := adminConn(t)
	mug, err := b.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, a, b)
	wantMug := func(what string) {
		t.Helper()
		if p, err := a.Product(ctx, mug.ID); err != nil || p != mug {
			t.Errorf("a %s: Product = %+v, %v; want %+v", what, p, err, mug)
		}
	}
	wantMug("before the listener is lost")

	before := listeners(t, admin, sc.name)
	if len(before) != 1 {
		t.Fatalf("a's listeners: %v, want one", before)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, before[0]); err != nil {
		t.Fatal(err)
	}
	// The backend ends a moment later; until then it may still pass on a notification.
	eventually(t, "the terminated listener", func() error {
		var alive bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)`, before[0]).Scan(&alive); err != nil || alive {
			return fmt.Errorf("backend %d still there (%v)", before[0], err)
		}
		return nil
	})

	if mug, err = b.SetPrice(ctx, mug.ID, 999); err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	wantMug("after a change through b, the listener lost")

	// The listener comes back, with a new connection, and listens again.
	eventually(t, "a's listener after it was terminated", func() error {
		if now := listeners(t, admin, sc.name); len(now) != 1 || now[0] == before[0] {
			return fmt.Errorf("a's listeners: %v, want one other than %d", now, before[0])
		}
		return nil
	})
	waitListening(t, a)
	wantMug("with the listener back")
	if mug, err = b.SetPrice(ctx, mug.ID, 1111); err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	wantMug("after a change through b, the listener back")
}

// Close stops the listener: its connection is gone when Close returns, or soon after
// (the server ends a backend a moment after its client has left).
func TestCloseStopsListener(t *testing.T) {
	sc := newSchema(t)
	s, err := postgres.Open(context.Background(), sc.dsn)
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, s)
	admin := adminConn(t)
	if n := len(listeners(t, admin, sc.name)); n != 1 {
		t.Fatalf("%d listeners before Close, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if postgres.WaitListening(s, 0) {
		t.Error("the store is listening after Close")
	}
	eventually(t, "after Close", func() error {
		if pids := listeners(t, admin, sc.name); len(pids) != 0 {
			return fmt.Errorf("listener backends %v", pids)
		}
		return nil
	})
}

// Checkouts, restocks and stock adjustments change only some products' stock: every
// instance, the one that wrote and the others, then shows the new stock without
// reading the whole catalog (a catalog of 100,000 products is read whole in about half
// a second). After a checkout no instance reads even the rows: the writer knows the
// stock it left, and tells the others with its stock_version; a notice of an older
// stock that arrives late is ignored, and so are the checkouts of an instance that
// predates stock_version (it names the products, which are read again). After a
// restock or an adjustment, every instance reads those rows again. Any other change
// is read whole.
func TestStockChangesPatchEveryInstancesCopy(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	a, b := mustOpen(t, sc.dsn), mustOpen(t, sc.dsn)
	var ids []int64
	for i := range 3 {
		p, err := a.AddProduct(ctx, storify.NewProduct{Name: fmt.Sprintf("Mug %d", i+1), Price: 1000, Stock: 50})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	waitListening(t, a, b)
	stock := func(s *postgres.Store, id int64) int {
		t.Helper()
		time.Sleep(3 * postgres.ReadWindow) // a read on another instance sees what committed before its window
		ps, err := s.Products(ctx, storify.ProductFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.ID == id {
				return p.Stock
			}
		}
		t.Fatalf("product %d not listed", id)
		return 0
	}
	stock(a, ids[0])
	stock(b, ids[0])
	loadsA, loadsB := postgres.FullLoads(a), postgres.FullLoads(b)

	admin := adminConn(t)
	steps := []struct {
		what      string
		write     func() error
		id        int64
		want      int
		readsRows bool
	}{
		{"a checkout on A", func() error {
			_, err := a.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: ids[1], Qty: 3}, {ProductID: ids[2], Qty: 1}}})
			return err
		}, ids[1], 47, false},
		{"a checkout on B", func() error {
			_, err := b.Checkout(ctx, storify.NewOrder{Customer: "Bo", Items: []storify.CartItem{{ProductID: ids[2], Qty: 4}}})
			return err
		}, ids[2], 45, false},
		{"a late notice of an older stock", func() error {
			_, err := admin.Exec(ctx, `SELECT pg_notify($1, $2)`, postgres.CatalogChannel(sc.name), fmt.Sprintf("late stock %d:50:1,%d:48:1", ids[2], ids[1]))
			return err
		}, ids[1], 47, false},
		{"a checkout by an instance that predates stock_version (rows to read, the version unchanged)", func() error {
			tx, err := admin.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `UPDATE `+sc.ident()+`.products SET stock = stock - 2 WHERE id = $1`, ids[1]); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, postgres.CatalogChannel(sc.name), fmt.Sprintf("old stock %d", ids[1])); err != nil {
				return err
			}
			return tx.Commit(ctx)
		}, ids[1], 45, true},
		{"a checkout on B after it", func() error {
			_, err := b.Checkout(ctx, storify.NewOrder{Customer: "Cy", Items: []storify.CartItem{{ProductID: ids[1], Qty: 1}}})
			return err
		}, ids[1], 44, false},
		{"a restock on A", func() error { _, err := a.Restock(ctx, ids[0], 5); return err }, ids[0], 55, true},
		{"an adjustment on B", func() error { _, err := b.AdjustStock(ctx, ids[0], -2, "broken"); return err }, ids[0], 53, true},
	}
	for _, st := range steps {
		rowsA, rowsB := postgres.RowLoads(a), postgres.RowLoads(b)
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		if got := stock(a, st.id); got != st.want {
			t.Errorf("after %s, A shows %d in stock, want %d", st.what, got, st.want)
		}
		if got := stock(b, st.id); got != st.want {
			t.Errorf("after %s, B shows %d in stock, want %d", st.what, got, st.want)
		}
		if ra, rb := postgres.RowLoads(a)-rowsA, postgres.RowLoads(b)-rowsB; (ra > 0) != st.readsRows || (rb > 0) != st.readsRows {
			t.Errorf("after %s, A read rows again %d times and B %d; want reads: %v", st.what, ra, rb, st.readsRows)
		}
	}
	if la, lb := postgres.FullLoads(a)-loadsA, postgres.FullLoads(b)-loadsB; la != 0 || lb != 0 {
		t.Errorf("stock changes made A read the whole catalog %d times and B %d, want none", la, lb)
	}

	if _, err := a.SetPrice(ctx, ids[0], 900); err != nil {
		t.Fatal(err)
	}
	stock(b, ids[0])
	if lb := postgres.FullLoads(b) - loadsB; lb != 1 {
		t.Errorf("a price change on A made B read the whole catalog %d times, want once", lb)
	}
	if ps, err := b.Products(ctx, storify.ProductFilter{}); err != nil || ps[0].Price != 900 {
		t.Errorf("B after the price change: %+v, %v", ps, err)
	}
}
