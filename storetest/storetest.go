// Package storetest is the conformance suite for storify.Store: every backend runs it
// from its own tests, so that the shell and the server can rely on one behaviour
// whatever holds the data.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storify.Store {
//			s := mustOpen(t) // a fresh, empty store, closed by t.Cleanup
//			return s
//		})
//	}
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/storify/storify"
)

// Run checks that the stores open returns keep the storify.Store contract. Each
// subtest calls open once and expects a new, empty store; open should register its
// own cleanup with t.Cleanup. Subtests run one after another, so open need not be
// safe for concurrent use.
func Run(t *testing.T, open func(t *testing.T) storify.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storify.Store)
	}{
		{"AddProduct", testAddProduct},
		{"AddProductTrimsName", testAddProductTrimsName},
		{"AddProductInvalid", testAddProductInvalid},
		{"AddProductLimits", testAddProductLimits},
		{"AddProductDuplicateName", testAddProductDuplicateName},
		{"ProductsCatalogOrder", testProductsCatalogOrder},
		{"ProductsSearch", testProductsSearch},
		{"ProductsSearchRanked", testProductsSearchRanked},
		{"ProductNotFound", testProductNotFound},
		{"ProductByName", testProductByName},
		{"Restock", testRestock},
		{"RestockInvalid", testRestockInvalid},
		{"SetPrice", testSetPrice},
		{"SetPriceKeepsPlacedOrders", testSetPriceKeepsPlacedOrders},
		{"Discontinue", testDiscontinue},
		{"Reinstate", testReinstate},
		{"Rename", testRename},
		{"Describe", testDescribe},
		{"Categories", testCategories},
		{"ImportProducts", testImportProducts},
		{"Checkout", testCheckout},
		{"CheckoutLastUnits", testCheckoutLastUnits},
		{"CheckoutInvalid", testCheckoutInvalid},
		{"CheckoutUnknownProduct", testCheckoutUnknownProduct},
		{"CheckoutShortLineTakesNothing", testCheckoutShortLineTakesNothing},
		{"CheckoutSoldOut", testCheckoutSoldOut},
		{"CheckoutDiscontinued", testCheckoutDiscontinued},
		{"CheckoutDuplicateItems", testCheckoutDuplicateItems},
		{"CheckoutTokenPlacesOnce", testCheckoutTokenPlacesOnce},
		{"CheckoutTokenConcurrent", testCheckoutTokenConcurrent},
		{"CheckoutTokenInvalid", testCheckoutTokenInvalid},
		{"OrdersNewestFirst", testOrdersNewestFirst},
		{"OrdersFilter", testOrdersFilter},
		{"OrderNotFound", testOrderNotFound},
		{"Ship", testShip},
		{"Cancel", testCancel},
		{"Sales", testSales},
		{"ReportsByPeriod", testReportsByPeriod},
		{"StockInvariant", testStockInvariant},
		{"ConcurrentCheckoutLastUnits", testConcurrentCheckoutLastUnits},
		{"ConcurrentCheckoutOutcomes", testConcurrentCheckoutOutcomes},
		{"ConcurrentMixed", testConcurrentMixed},
		{"CreateAccount", testCreateAccount},
		{"CreateAccountDuplicateName", testCreateAccountDuplicateName},
		{"CreateAccountInvalid", testCreateAccountInvalid},
		{"AccountNameRule", testAccountNameRule},
		{"Accounts", testAccounts},
		{"SaveCart", testSaveCart},
		{"SaveCartInvalid", testSaveCartInvalid},
		{"CheckoutByAccount", testCheckoutByAccount},
		{"ChangeCart", testChangeCart},
		{"CheckoutBuysTheSavedCart", testCheckoutBuysTheSavedCart},
		{"ConcurrentCartChanges", testConcurrentCartChanges},
		{"CheckoutUnknownAccount", testCheckoutUnknownAccount},
		{"ReadAfterWrite", testReadAfterWrite},
		{"InitSetting", testInitSetting},
		{"ConcurrentInitSetting", testConcurrentInitSetting},
		{"AccountKeys", testAccountKeys},
		{"ConcurrentAccountKey", testConcurrentAccountKey},
		{"DeleteAccountWithKeys", testDeleteAccountWithKeys},
		{"Initialize", testInitialize},
		{"InitializeEmpty", testInitializeEmpty},
		{"AdjustStock", testAdjustStock},
		{"AdjustStockRacesCheckouts", testAdjustStockRacesCheckouts},
		{"RestockUpToMaxStock", testRestockUpToMaxStock},
		{"AccountAdmin", testAccountAdmin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.fn(t, s)
		})
	}
}

// placedSlack is how far an order's Placed time may be from the moment Checkout ran:
// generous for slow machines, tight enough to catch a zero or local-midnight time.
const placedSlack = time.Minute

// addProduct adds a product or fails the test.
func addProduct(t *testing.T, s storify.Store, name string, price storify.Cents, stock int) storify.Product {
	t.Helper()
	p, err := s.AddProduct(context.Background(), storify.NewProduct{
		Name: name, Description: "a " + name, Price: price, Stock: stock,
	})
	if err != nil {
		t.Fatalf("AddProduct(%q): %v", name, err)
	}
	return p
}

// getProduct reads a product or fails the test.
func getProduct(t *testing.T, s storify.Store, id int64) storify.Product {
	t.Helper()
	p, err := s.Product(context.Background(), id)
	if err != nil {
		t.Fatalf("Product(%d): %v", id, err)
	}
	return p
}

// checkout places an order or fails the test.
func checkout(t *testing.T, s storify.Store, customer string, items ...storify.CartItem) storify.Order {
	t.Helper()
	o, err := s.Checkout(context.Background(), storify.NewOrder{Customer: customer, Items: items})
	if err != nil {
		t.Fatalf("Checkout(%q, %v): %v", customer, items, err)
	}
	return o
}

// item is a cart line, short to write.
func item(p storify.Product, qty int) storify.CartItem {
	return storify.CartItem{ProductID: p.ID, Qty: qty}
}

// listOrders lists orders or fails the test.
func listOrders(t *testing.T, s storify.Store, f storify.OrderFilter) []storify.Order {
	t.Helper()
	os, err := s.Orders(context.Background(), f)
	if err != nil {
		t.Fatalf("Orders(%+v): %v", f, err)
	}
	return os
}

// listProducts lists products or fails the test.
func listProducts(t *testing.T, s storify.Store, f storify.ProductFilter) []storify.Product {
	t.Helper()
	ps, err := s.Products(context.Background(), f)
	if err != nil {
		t.Fatalf("Products(%+v): %v", f, err)
	}
	return ps
}

// wantCode fails the test unless err is an application error with code, and returns
// its message. what names the call for the failure message.
func wantCode(t *testing.T, what string, err error, code string) string {
	t.Helper()
	if got := storify.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
		return ""
	}
	return storify.ErrorMessage(err)
}

// wantStock fails the test unless the product has stock units on hand and received
// units received.
func wantStock(t *testing.T, s storify.Store, id int64, stock, received int) {
	t.Helper()
	p := getProduct(t, s, id)
	if p.Stock != stock || p.Received != received {
		t.Errorf("%s: stock %d, received %d; want stock %d, received %d", p.Name, p.Stock, p.Received, stock, received)
	}
}

// wantNoOrders fails the test if the store has any order.
func wantNoOrders(t *testing.T, s storify.Store) {
	t.Helper()
	if os := listOrders(t, s, storify.OrderFilter{}); len(os) != 0 {
		t.Errorf("Orders: %d orders, want none: %+v", len(os), os)
	}
}

// sameOrder fails the test unless got and want are the same order. Placed times are
// compared to the millisecond, since backends store time at different precisions.
func sameOrder(t *testing.T, what string, got, want storify.Order) {
	t.Helper()
	if got.ID != want.ID || got.Customer != want.Customer || got.Total != want.Total || got.Status != want.Status {
		t.Errorf("%s: order #%d %q total %s %s, want #%d %q total %s %s", what,
			got.ID, got.Customer, got.Total, got.Status, want.ID, want.Customer, want.Total, want.Status)
	}
	if got.AccountID != want.AccountID {
		t.Errorf("%s: order #%d of account %d, want account %d", what, got.ID, got.AccountID, want.AccountID)
	}
	if d := got.Placed.Sub(want.Placed).Abs(); d > time.Millisecond {
		t.Errorf("%s: order #%d placed %v, want %v", what, got.ID, got.Placed, want.Placed)
	}
	if !sameLines(got.Lines, want.Lines) {
		t.Errorf("%s: order #%d lines\n%+v\nwant\n%+v", what, got.ID, got.Lines, want.Lines)
	}
}

func sameLines(a, b []storify.OrderLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// orderIDs returns the ids of os, in order.
func orderIDs(os []storify.Order) []int64 {
	ids := make([]int64, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	return ids
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkInvariant fails the test unless, for every product, the units on hand plus the
// units in orders not cancelled are the units ever received: no unit is lost or sold
// twice.
func checkInvariant(t *testing.T, s storify.Store) {
	t.Helper()
	sold := map[int64]int{}
	for _, o := range listOrders(t, s, storify.OrderFilter{}) {
		if o.Status == storify.StatusCancelled {
			continue
		}
		for _, l := range o.Lines {
			sold[l.ProductID] += l.Qty
		}
	}
	for _, p := range listProducts(t, s, storify.ProductFilter{All: true}) {
		if p.Stock < 0 {
			t.Errorf("%s: stock %d is negative", p.Name, p.Stock)
		}
		if p.Stock+sold[p.ID] != p.Received {
			t.Errorf("%s: stock %d + %d units in orders = %d, want received %d",
				p.Name, p.Stock, sold[p.ID], p.Stock+sold[p.ID], p.Received)
		}
	}
}
