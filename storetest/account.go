package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
)

// hash stands for a password hash: the store keeps whatever bytes it is given.
var hash = []byte("$2a$10$abcdefghijklmnopqrstuu5xXRP2bDJ0vDHvs2Zz7GmvbBOfLNRzW")

// createAccount adds an account or fails the test.
func createAccount(t *testing.T, s storify.Store, name string) storify.Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), name, hash)
	if err != nil {
		t.Fatalf("CreateAccount(%q): %v", name, err)
	}
	return a
}

// savedCart reads an account's saved cart or fails the test.
func savedCart(t *testing.T, s storify.Store, accountID int64) []storify.CartItem {
	t.Helper()
	items, err := s.SavedCart(context.Background(), accountID)
	if err != nil {
		t.Fatalf("SavedCart(%d): %v", accountID, err)
	}
	return items
}

// saveCart saves an account's cart or fails the test.
func saveCart(t *testing.T, s storify.Store, accountID int64, items ...storify.CartItem) {
	t.Helper()
	if err := s.SaveCart(context.Background(), accountID, items); err != nil {
		t.Fatalf("SaveCart(%d, %v): %v", accountID, items, err)
	}
}

// wantCart fails the test unless the account's saved cart is want, in that order.
func wantCart(t *testing.T, s storify.Store, what string, accountID int64, want ...storify.CartItem) {
	t.Helper()
	if got := savedCart(t, s, accountID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: SavedCart(%d) = %v, want %v", what, accountID, got, want)
	}
}

func sameAccount(t *testing.T, what string, got, want storify.Account) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || !bytes.Equal(got.PasswordHash, want.PasswordHash) {
		t.Errorf("%s = #%d %q hash %q, want #%d %q hash %q", what,
			got.ID, got.Name, got.PasswordHash, want.ID, want.Name, want.PasswordHash)
	}
	if d := got.Created.Sub(want.Created).Abs(); d > time.Millisecond {
		t.Errorf("%s: created %v, want %v", what, got.Created, want.Created)
	}
}

func testCreateAccount(t *testing.T, s storify.Store) {
	ctx := context.Background()
	start := time.Now()
	a, err := s.CreateAccount(ctx, "  Ada Lovelace ", hash)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if a.ID <= 0 {
		t.Errorf("CreateAccount: account number %d, want a positive one", a.ID)
	}
	want := storify.Account{ID: a.ID, Name: "Ada Lovelace", PasswordHash: hash, Created: a.Created}
	sameAccount(t, "CreateAccount", a, want)
	if a.Created.Before(start.Add(-placedSlack)) || a.Created.After(time.Now().Add(placedSlack)) {
		t.Errorf("CreateAccount: created at %v, want about %v", a.Created, start)
	}

	for _, name := range []string{"Ada Lovelace", "ada lovelace", "ADA LOVELACE", " Ada Lovelace  "} {
		got, err := s.AccountByName(ctx, name)
		if err != nil {
			t.Errorf("AccountByName(%q): %v", name, err)
			continue
		}
		sameAccount(t, fmt.Sprintf("AccountByName(%q)", name), got, want)
	}
	for _, name := range []string{"Ada", "Ada Lovelace II", "", "Bob"} {
		_, err := s.AccountByName(ctx, name)
		wantCode(t, fmt.Sprintf("AccountByName(%q)", name), err, storify.ENOTFOUND)
	}

	b := createAccount(t, s, "Bob")
	if b.ID == a.ID {
		t.Errorf("two accounts got number %d", a.ID)
	}
}

func testCreateAccountDuplicateName(t *testing.T, s storify.Store) {
	ctx := context.Background()
	ada := createAccount(t, s, "Ada")
	createAccount(t, s, "Crème Brûlée")
	for _, name := range []string{"Ada", "ada", "ADA", "  Ada ", "CRÈME BRÛLÉE"} {
		_, err := s.CreateAccount(ctx, name, []byte("another hash"))
		wantCode(t, fmt.Sprintf("CreateAccount(%q) with the name taken", name), err, storify.ECONFLICT)
	}
	as, err := s.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	if len(as) != 2 {
		t.Errorf("Accounts: %d accounts, want 2: %+v", len(as), as)
	}
	// The refused sign-ups did not replace the first account's password.
	got, err := s.AccountByName(ctx, "ada")
	if err != nil {
		t.Fatalf("AccountByName: %v", err)
	}
	sameAccount(t, "AccountByName after refused duplicates", got, ada)
}

func testCreateAccountInvalid(t *testing.T, s storify.Store) {
	ctx := context.Background()
	for _, name := range []string{
		"", "   ", "123", "#123", "Ada\x1b[31m", "Ada\nLovelace", "Ada\xff",
		strings.Repeat("a", storify.MaxNameLen+1),
	} {
		_, err := s.CreateAccount(ctx, name, hash)
		wantCode(t, fmt.Sprintf("CreateAccount(%q)", name), err, storify.EINVALID)
	}
	for _, h := range [][]byte{nil, {}} {
		_, err := s.CreateAccount(ctx, "Ada", h)
		wantCode(t, fmt.Sprintf("CreateAccount with password hash %q", h), err, storify.EINVALID)
	}
	as, err := s.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	if len(as) != 0 {
		t.Errorf("refused accounts were created: %+v", as)
	}
	// The name refused with an empty hash is still free.
	createAccount(t, s, "Ada")
}

func testAccounts(t *testing.T, s storify.Store) {
	ctx := context.Background()
	as, err := s.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	if len(as) != 0 {
		t.Errorf("a new store has accounts %+v, want none", as)
	}

	mug := addProduct(t, s, "Blue Mug", 1250, 100)
	cy := createAccount(t, s, "Cy")
	ada := createAccount(t, s, "Ada")
	bob := createAccount(t, s, "Bob")
	for range 2 {
		checkoutAs(t, s, ada, item(mug, 1))
	}
	checkoutAs(t, s, cy, item(mug, 1))
	checkout(t, s, "Ada", item(mug, 1)) // a guest of the same name: not Ada's order

	as, err = s.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	want := []storify.AccountSummary{
		{ID: ada.ID, Name: "Ada", Created: ada.Created, Orders: 2},
		{ID: bob.ID, Name: "Bob", Created: bob.Created, Orders: 0},
		{ID: cy.ID, Name: "Cy", Created: cy.Created, Orders: 1},
	}
	if len(as) != len(want) {
		t.Fatalf("Accounts = %+v, want %+v", as, want)
	}
	for i := range want {
		got := as[i]
		if got.ID != want[i].ID || got.Name != want[i].Name || got.Orders != want[i].Orders ||
			got.Created.Sub(want[i].Created).Abs() > time.Millisecond {
			t.Errorf("Accounts[%d] = %+v, want %+v", i, got, want[i])
		}
	}
}

// checkoutAs places an order for an account, in its name, or fails the test. An
// account buys its saved cart, so the cart is saved as items first, unless it
// holds them already.
func checkoutAs(t *testing.T, s storify.Store, a storify.Account, items ...storify.CartItem) storify.Order {
	t.Helper()
	if merged := storify.NewCart(items).Items(); !storify.SameContents(savedCart(t, s, a.ID), merged) {
		saveCart(t, s, a.ID, merged...)
	}
	o, err := s.Checkout(context.Background(), storify.NewOrder{Customer: a.Name, AccountID: a.ID, Items: items})
	if err != nil {
		t.Fatalf("Checkout for account %d (%q), %v: %v", a.ID, a.Name, items, err)
	}
	return o
}

func testSaveCart(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 10)
	bowl := addProduct(t, s, "Green Bowl", 300, 10)
	ada := createAccount(t, s, "Ada")
	bob := createAccount(t, s, "Bob")

	if got := savedCart(t, s, ada.ID); len(got) != 0 {
		t.Errorf("a new account's saved cart is %v, want empty", got)
	}

	// The cart's order, not the catalog's.
	saveCart(t, s, ada.ID, item(plate, 2), item(mug, 1))
	wantCart(t, s, "after SaveCart", ada.ID, item(plate, 2), item(mug, 1))
	wantCart(t, s, "another account's", bob.ID)

	// Saving replaces, it does not add.
	saveCart(t, s, ada.ID, item(bowl, 3), item(plate, storify.MaxQty))
	wantCart(t, s, "after a second SaveCart", ada.ID, item(bowl, 3), item(plate, storify.MaxQty))

	saveCart(t, s, bob.ID, item(mug, 4))
	if err := s.SaveCart(ctx, ada.ID, nil); err != nil {
		t.Fatalf("SaveCart(nil): %v", err)
	}
	wantCart(t, s, "after SaveCart(nil)", ada.ID)
	wantCart(t, s, "after emptying Ada's", bob.ID, item(mug, 4))

	saveCart(t, s, ada.ID, item(mug, 1))
	if err := s.SaveCart(ctx, ada.ID, []storify.CartItem{}); err != nil {
		t.Fatalf("SaveCart(empty): %v", err)
	}
	wantCart(t, s, "after SaveCart(empty)", ada.ID)

	// A product discontinued after it was saved stays in the cart: the customer is
	// told at checkout, not left to wonder where it went.
	saveCart(t, s, ada.ID, item(mug, 2), item(bowl, 1))
	if _, err := s.Discontinue(ctx, mug.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	wantCart(t, s, "after discontinuing a saved product", ada.ID, item(mug, 2), item(bowl, 1))

	// Saving a cart takes no stock.
	wantStock(t, s, bowl.ID, 10, 10)
	wantStock(t, s, plate.ID, 10, 10)
}

func testSaveCartInvalid(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 10)
	ada := createAccount(t, s, "Ada")
	saveCart(t, s, ada.ID, item(plate, 1), item(mug, 2))

	for _, tt := range []struct {
		what  string
		items []storify.CartItem
		code  string
	}{
		{"a zero quantity", []storify.CartItem{item(mug, 0)}, storify.EINVALID},
		{"a negative quantity", []storify.CartItem{item(mug, -1)}, storify.EINVALID},
		{"a quantity above the maximum", []storify.CartItem{item(mug, storify.MaxQty+1)}, storify.EINVALID},
		{"a bad quantity on a second line", []storify.CartItem{item(plate, 1), item(mug, 0)}, storify.EINVALID},
		{"an unknown product", []storify.CartItem{{ProductID: plate.ID + 100, Qty: 1}}, storify.ENOTFOUND},
		{"an unknown product on a second line", []storify.CartItem{item(mug, 1), {ProductID: plate.ID + 100, Qty: 1}}, storify.ENOTFOUND},
	} {
		err := s.SaveCart(ctx, ada.ID, tt.items)
		wantCode(t, "SaveCart with "+tt.what, err, tt.code)
	}
	// A refused save leaves the cart that was saved before.
	wantCart(t, s, "after refused saves", ada.ID, item(plate, 1), item(mug, 2))

	for _, id := range []int64{ada.ID + 100, 0, -1} {
		err := s.SaveCart(ctx, id, []storify.CartItem{item(mug, 1)})
		wantCode(t, fmt.Sprintf("SaveCart for account %d", id), err, storify.ENOTFOUND)
	}
	wantCart(t, s, "after saves for unknown accounts", ada.ID, item(plate, 1), item(mug, 2))
}

// An account's checkout belongs to it, empties its saved cart, and is listed among
// its orders; a guest's belongs to no account.
func testCheckoutByAccount(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 10)
	ada := createAccount(t, s, "Ada")
	bob := createAccount(t, s, "Bob")
	saveCart(t, s, ada.ID, item(mug, 2), item(plate, 1))
	saveCart(t, s, bob.ID, item(plate, 3))

	guest := checkout(t, s, "Cy", item(mug, 1))
	if guest.AccountID != 0 {
		t.Errorf("a guest's order belongs to account %d, want 0", guest.AccountID)
	}
	// A refused checkout keeps the saved cart: nothing was bought.
	_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", AccountID: ada.ID, Items: []storify.CartItem{item(mug, 50)}})
	wantCode(t, "Checkout by an account of more than there is", err, storify.ECONFLICT)
	wantCart(t, s, "after a refused checkout", ada.ID, item(mug, 2), item(plate, 1))

	o := checkoutAs(t, s, ada, item(mug, 2), item(plate, 1))
	if o.AccountID != ada.ID || o.Customer != "Ada" {
		t.Errorf("Checkout by account %d: order of account %d for %q, want account %d for %q", ada.ID, o.AccountID, o.Customer, ada.ID, "Ada")
	}
	wantCart(t, s, "after the account's checkout", ada.ID)
	wantCart(t, s, "another account's, after Ada's checkout", bob.ID, item(plate, 3))

	got, err := s.Order(ctx, o.ID)
	if err != nil {
		t.Fatalf("Order(%d): %v", o.ID, err)
	}
	sameOrder(t, "Order of an account", got, o)
	if got, err := s.Order(ctx, guest.ID); err != nil {
		t.Fatalf("Order(%d): %v", guest.ID, err)
	} else if got.AccountID != 0 {
		t.Errorf("Order of a guest: account %d, want 0", got.AccountID)
	}

	o2 := checkoutAs(t, s, ada, item(plate, 2))
	bobs := checkoutAs(t, s, bob, item(plate, 3))
	wantCart(t, s, "after Bob's checkout", bob.ID)
	for _, tt := range []struct {
		filter storify.OrderFilter
		want   []int64
	}{
		{storify.OrderFilter{AccountID: ada.ID}, []int64{o2.ID, o.ID}},
		{storify.OrderFilter{AccountID: bob.ID}, []int64{bobs.ID}},
		{storify.OrderFilter{AccountID: ada.ID, Limit: 1}, []int64{o2.ID}},
		{storify.OrderFilter{AccountID: ada.ID, IDs: []int64{o.ID, bobs.ID, guest.ID}}, []int64{o.ID}},
		{storify.OrderFilter{AccountID: ada.ID + bob.ID + 100}, nil},
		{storify.OrderFilter{}, []int64{bobs.ID, o2.ID, o.ID, guest.ID}},
	} {
		got := listOrders(t, s, tt.filter)
		if !slices.Equal(orderIDs(got), tt.want) {
			t.Errorf("Orders(%+v) = %v, want %v", tt.filter, orderIDs(got), tt.want)
		}
		for _, o := range got {
			if tt.filter.AccountID != 0 && o.AccountID != tt.filter.AccountID {
				t.Errorf("Orders(%+v): order #%d of account %d", tt.filter, o.ID, o.AccountID)
			}
		}
	}
	if _, err := s.Cancel(ctx, o2.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if got := listOrders(t, s, storify.OrderFilter{AccountID: ada.ID, Status: storify.StatusCancelled}); !slices.Equal(orderIDs(got), []int64{o2.ID}) {
		t.Errorf("Ada's cancelled orders = %v, want [%d]", orderIDs(got), o2.ID)
	}
	checkInvariant(t, s)
}

func testCheckoutUnknownAccount(t *testing.T, s storify.Store) {
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	ada := createAccount(t, s, "Ada")
	for _, id := range []int64{ada.ID + 100, -1} {
		_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", AccountID: id, Items: []storify.CartItem{item(mug, 1)}})
		wantCode(t, fmt.Sprintf("Checkout for account %d", id), err, storify.ENOTFOUND)
	}
	wantStock(t, s, mug.ID, 10, 10)
	wantNoOrders(t, s)
}
