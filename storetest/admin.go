package storetest

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
)

// testInitialize: the first Initialize of a store adds the catalog and says so;
// every later one adds nothing, even once the catalog is empty again, and of
// several at once exactly one is the first.
func testInitialize(t *testing.T, s storify.Store) {
	ctx := context.Background()
	sample := []storify.NewProduct{
		{Name: " Blue Mug ", Description: "Sturdy.", Price: 1250, Stock: 24},
		{Name: "Notebook", Price: 690, Stock: 0},
	}
	if _, err := s.Initialize(ctx, []storify.NewProduct{{Name: "", Price: 1}}); storify.ErrorCode(err) != storify.EINVALID {
		t.Errorf("Initialize with a nameless product: %v, want EINVALID", err)
	}
	if _, err := s.Initialize(ctx, []storify.NewProduct{{Name: "A", Price: 1}, {Name: "a", Price: 2}}); storify.ErrorCode(err) != storify.ECONFLICT {
		t.Errorf("Initialize with one name twice: %v, want ECONFLICT", err)
	}
	if ps, _ := s.Products(ctx, storify.ProductFilter{All: true}); len(ps) != 0 {
		t.Fatalf("refused Initialize calls left products: %v", ps)
	}

	var wg sync.WaitGroup
	firsts := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			first, err := s.Initialize(ctx, sample)
			if err != nil {
				t.Errorf("Initialize: %v", err)
			}
			firsts <- first
		})
	}
	wg.Wait()
	close(firsts)
	n := 0
	for first := range firsts {
		if first {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 concurrent Initialize calls said they were the first, want 1", n)
	}
	ps, err := s.Products(ctx, storify.ProductFilter{All: true})
	if err != nil || len(ps) != 2 || ps[0].Name != "Blue Mug" || ps[0].Stock != 24 || ps[0].Received != 24 ||
		ps[0].Description != "Sturdy." || ps[1].Name != "Notebook" || ps[1].Price != 690 {
		t.Fatalf("after Initialize: %+v, %v; want the sample catalog once", ps, err)
	}
	for _, p := range ps {
		if _, err := s.Discontinue(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if first, err := s.Initialize(ctx, sample); first || err != nil {
		t.Errorf("Initialize again: %v, %v; want false, nil", first, err)
	}
	if ps, _ := s.Products(ctx, storify.ProductFilter{All: true}); len(ps) != 2 {
		t.Errorf("Initialize again added products: %v", ps)
	}
}

// testInitializeEmpty: a store initialised without a catalog is not new any more.
func testInitializeEmpty(t *testing.T, s storify.Store) {
	ctx := context.Background()
	if first, err := s.Initialize(ctx, nil); !first || err != nil {
		t.Fatalf("first Initialize(nil): %v, %v; want true, nil", first, err)
	}
	if first, err := s.Initialize(ctx, []storify.NewProduct{{Name: "Mug", Price: 100, Stock: 1}}); first || err != nil {
		t.Errorf("Initialize after Initialize(nil): %v, %v; want false, nil", first, err)
	}
	if ps, _ := s.Products(ctx, storify.ProductFilter{All: true}); len(ps) != 0 {
		t.Errorf("a store initialised empty got products: %v", ps)
	}
}

// wantInvariant fails the test unless stock + units sold = received - written off
// for product id, with sales counted from the orders not cancelled.
func wantInvariant(t *testing.T, s storify.Store, id int64) {
	t.Helper()
	ctx := context.Background()
	p := getProduct(t, s, id)
	sold := 0
	for _, o := range listOrders(t, s, storify.OrderFilter{}) {
		if o.Status == storify.StatusCancelled {
			continue
		}
		for _, l := range o.Lines {
			if l.ProductID == id {
				sold += l.Qty
			}
		}
	}
	adjs, err := s.Adjustments(ctx, id)
	if err != nil {
		t.Fatalf("Adjustments: %v", err)
	}
	if off := storify.WrittenOff(adjs, id); p.Stock+sold != p.Received-off {
		t.Errorf("%s: stock %d + sold %d != received %d - written off %d", p.Name, p.Stock, sold, p.Received, off)
	}
}

// testAdjustStock: write-offs lower the stock and leave received as it was, undoing
// them is bounded by what was written off, each one is in the audit trail, and
// stock + sold = received - written off throughout.
func testAdjustStock(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Mug", 1250, 10)
	other := addProduct(t, s, "Plate", 500, 4)
	o := checkout(t, s, "Ada", item(mug, 3))
	start := time.Now()
	p, err := s.AdjustStock(ctx, mug.ID, -2, "  two broke in transit ")
	if err != nil || p.Stock != 5 || p.Received != 10 {
		t.Fatalf("AdjustStock(-2) = %+v, %v; want stock 5, received 10", p, err)
	}
	wantInvariant(t, s, mug.ID)
	wantStock(t, s, mug.ID, 5, 10)
	wantCode(t, "writing off more than the stock", func() error { _, err := s.AdjustStock(ctx, mug.ID, -6, "x"); return err }(), storify.ECONFLICT)
	wantCode(t, "putting back more than was written off", func() error { _, err := s.AdjustStock(ctx, mug.ID, 3, "x"); return err }(), storify.ECONFLICT)
	wantCode(t, "putting back units of a product with no write-off", func() error { _, err := s.AdjustStock(ctx, other.ID, 1, "x"); return err }(), storify.ECONFLICT)
	for _, bad := range []struct {
		delta  int
		reason string
	}{{0, "x"}, {-1, ""}, {-1, "   "}, {-1, "bad\x1b[31m"}, {-storify.MaxStock - 1, "x"}} {
		_, err := s.AdjustStock(ctx, mug.ID, bad.delta, bad.reason)
		wantCode(t, "AdjustStock("+strconv.Itoa(bad.delta)+", "+strconv.Quote(bad.reason)+")", err, storify.EINVALID)
	}
	_, err = s.AdjustStock(ctx, other.ID+100, -1, "x")
	wantCode(t, "AdjustStock of no product", err, storify.ENOTFOUND)
	wantStock(t, s, mug.ID, 5, 10)
	if p, err = s.AdjustStock(ctx, mug.ID, 1, "found one behind the shelf"); err != nil || p.Stock != 6 {
		t.Fatalf("AdjustStock(+1) = %+v, %v; want stock 6", p, err)
	}
	if p, err = s.AdjustStock(ctx, other.ID, -4, "recalled"); err != nil || p.Stock != 0 {
		t.Fatalf("AdjustStock(-4) of the whole stock = %+v, %v", p, err)
	}
	wantInvariant(t, s, mug.ID)
	if _, err := s.Cancel(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	wantStock(t, s, mug.ID, 9, 10)
	wantInvariant(t, s, mug.ID)
	wantInvariant(t, s, other.ID)

	adjs, err := s.Adjustments(ctx, mug.ID)
	if err != nil || len(adjs) != 2 || adjs[0].Delta != -2 || adjs[0].Reason != "two broke in transit" ||
		adjs[1].Delta != 1 || adjs[1].Reason != "found one behind the shelf" || adjs[0].ProductID != mug.ID || adjs[0].ID >= adjs[1].ID {
		t.Fatalf("Adjustments(mug) = %+v, %v", adjs, err)
	}
	if d := adjs[0].Made.Sub(start); d < -placedSlack || d > placedSlack || adjs[0].Made.Location() != time.UTC {
		t.Errorf("adjustment made at %v, want about %v, in UTC", adjs[0].Made, start)
	}
	all, err := s.Adjustments(ctx, 0)
	if err != nil || len(all) != 3 || storify.WrittenOff(all, mug.ID) != 1 || storify.WrittenOff(all, other.ID) != 4 {
		t.Errorf("Adjustments(0) = %+v, %v; want 3, written off 1 mug and 4 plates", all, err)
	}
}

// testAdjustStockRacesCheckouts: write-offs and checkouts of the last units at
// once never take more units than there are.
func testAdjustStockRacesCheckouts(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p := addProduct(t, s, "Last Ones", 100, 20)
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for i := range 40 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(p, 1)}})
			} else {
				_, err = s.AdjustStock(ctx, p.ID, -1, "broken")
			}
			switch storify.ErrorCode(err) {
			case "":
				mu.Lock()
				taken++
				mu.Unlock()
			case storify.ECONFLICT:
			default:
				t.Errorf("checkout or write-off: %v", err)
			}
		})
	}
	wg.Wait()
	if taken != 20 {
		t.Errorf("%d units were sold or written off, want all 20 and no more", taken)
	}
	wantStock(t, s, p.ID, 0, 20)
	wantInvariant(t, s, p.ID)
}

// testRestockUpToMaxStock: a restock may bring as many units as a new product may
// start with, and no more than MaxStock may be on hand.
func testRestockUpToMaxStock(t *testing.T, s storify.Store) {
	ctx := context.Background()
	p := addProduct(t, s, "Stickers", 10, 0)
	if _, err := s.Restock(ctx, p.ID, storify.MaxStock); err != nil {
		t.Fatalf("Restock(MaxStock) of an empty product: %v", err)
	}
	_, err := s.Restock(ctx, p.ID, 1)
	wantCode(t, "Restock past MaxStock", err, storify.EINVALID)
	wantStock(t, s, p.ID, storify.MaxStock, storify.MaxStock)
}

// testAccountAdmin: an account locks and unlocks (the hash kept behind the
// prefix), its password is replaced (a locked account staying locked), and it is
// deleted with its cart while its orders stay, anonymised.
func testAccountAdmin(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	ada := createAccount(t, s, "Ada")
	bob := createAccount(t, s, "Bob")
	o := checkoutAs(t, s, ada, item(mug, 2))
	saveCart(t, s, ada.ID, item(mug, 1))
	hash := func(name string) string {
		t.Helper()
		a, err := s.AccountByName(ctx, name)
		if err != nil {
			t.Fatalf("AccountByName(%q): %v", name, err)
		}
		return string(a.PasswordHash)
	}
	orig := hash("Ada")

	if a, err := s.LockAccount(ctx, "ada", true); err != nil || a.ID != ada.ID || a.PasswordHash != nil {
		t.Fatalf("LockAccount(ada) = %+v, %v", a, err)
	}
	if h := hash("Ada"); h != storify.LockedPrefix+orig || !storify.Locked([]byte(h)) {
		t.Errorf("a locked account's hash is %q, want %q", h, storify.LockedPrefix+orig)
	}
	lockedIn := func() map[string]bool {
		t.Helper()
		as, err := s.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, a := range as {
			m[a.Name] = a.Locked
		}
		return m
	}
	if got := lockedIn(); !got["Ada"] || got["Bob"] {
		t.Errorf("Accounts says locked: %v, want Ada only", got)
	}
	_, err := s.LockAccount(ctx, "Ada", true)
	wantCode(t, "LockAccount of a locked account", err, storify.ECONFLICT)
	_, err = s.LockAccount(ctx, "Bob", false)
	wantCode(t, "unlocking an account not locked", err, storify.ECONFLICT)
	_, err = s.LockAccount(ctx, "Nobody", true)
	wantCode(t, "LockAccount of no account", err, storify.ENOTFOUND)

	if _, err := s.SetPasswordHash(ctx, " ADA ", []byte("new-hash")); err != nil {
		t.Fatalf("SetPasswordHash of a locked account: %v", err)
	}
	if h := hash("Ada"); h != storify.LockedPrefix+"new-hash" {
		t.Errorf("after a new password, a locked account's hash is %q, want it still locked", h)
	}
	if _, err := s.LockAccount(ctx, "Ada", false); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if h := hash("Ada"); h != "new-hash" || storify.Locked([]byte(h)) {
		t.Errorf("an unlocked account's hash is %q, want the new one", h)
	}
	if got := lockedIn(); got["Ada"] {
		t.Errorf("Accounts says Ada is locked after unlock")
	}
	_, err = s.SetPasswordHash(ctx, "Bob", nil)
	wantCode(t, "SetPasswordHash with no hash", err, storify.EINVALID)
	_, err = s.SetPasswordHash(ctx, "Nobody", []byte("x"))
	wantCode(t, "SetPasswordHash of no account", err, storify.ENOTFOUND)

	n, err := s.DeleteAccount(ctx, "ada")
	if err != nil || n != 1 {
		t.Fatalf("DeleteAccount(ada) = %d, %v; want 1 order kept", n, err)
	}
	_, err = s.AccountByName(ctx, "Ada")
	wantCode(t, "AccountByName of a deleted account", err, storify.ENOTFOUND)
	got, err := s.Order(ctx, o.ID)
	if err != nil || got.Customer != storify.DeletedCustomer || got.AccountID != 0 || got.Units() != 2 || got.Total != o.Total {
		t.Errorf("a deleted account's order = %+v, %v; want it kept for %q, with no account", got, err, storify.DeletedCustomer)
	}
	if as, err := s.Accounts(ctx); err != nil || len(as) != 1 || as[0].ID != bob.ID {
		t.Errorf("Accounts after deleting Ada = %+v, %v; want Bob only", as, err)
	}
	_, err = s.DeleteAccount(ctx, "Ada")
	wantCode(t, "DeleteAccount again", err, storify.ENOTFOUND)
	again := createAccount(t, s, "Ada")
	wantCart(t, s, "a new account of a deleted one's name", again.ID)
	if os := listOrders(t, s, storify.OrderFilter{AccountID: again.ID}); len(os) != 0 {
		t.Errorf("a new account of a deleted one's name has its orders: %+v", os)
	}
	wantInvariant(t, s, mug.ID)
}
