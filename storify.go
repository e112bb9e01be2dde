// Package storify is the domain of a text-terminal store: products, carts, orders and
// money, and the Store interface that every storage backend implements. It imports no
// subpackage; adapters (sqlite/, server/, shell/) depend on it, never the other way round.
package storify

import (
	"context"
	"time"
)

// Store is the store's storage. Every method is safe for concurrent use. Errors are
// *Error values with a code (ENOTFOUND, EINVALID, ECONFLICT) whose message is fit to
// show a customer; any other error is internal.
type Store interface {
	// Products lists the catalog in catalog-number order. Discontinued products are
	// left out unless filter.All is set. filter.Search keeps only the products
	// whose name or description holds each of its words, as a word or part of
	// one, case- and accent-insensitively, and ranks them: all words found in the
	// name before any in the description, whole words before parts, then catalog
	// order. The slice may be shared with other callers: it must not be modified.
	Products(ctx context.Context, filter ProductFilter) ([]Product, error)
	// ProductsPage returns what Products(ctx, filter) returns from from to to, cut
	// to what there is, and how many products that is in all: a list shown a page
	// at a time reads that page, not a copy of every product. The page may be
	// shared with other callers: it must not be modified.
	ProductsPage(ctx context.Context, filter ProductFilter, from, to int) (page []Product, total int, err error)
	// Product returns the product with this catalog number, discontinued or not.
	// ENOTFOUND if there is none.
	Product(ctx context.Context, id int64) (Product, error)
	// ProductByName returns the product with this name, compared case-insensitively.
	// ENOTFOUND if there is none.
	ProductByName(ctx context.Context, name string) (Product, error)
	// AddProduct adds a product with p.Stock units received and returns it with its
	// catalog number. EINVALID for a bad name, price or stock; ECONFLICT if a product
	// of that name (case-insensitively) exists.
	AddProduct(ctx context.Context, p NewProduct) (Product, error)
	// Restock adds qty received units to a product. EINVALID if qty is not positive
	// or would put more than MaxStock units on hand; ENOTFOUND if there is no such
	// product.
	Restock(ctx context.Context, id int64, qty int) (Product, error)
	// SetPrice changes a product's price; orders already placed keep theirs.
	SetPrice(ctx context.Context, id int64, price Cents) (Product, error)
	// Discontinue takes a product out of the catalog; its orders stay as they are.
	// ECONFLICT if it is discontinued already.
	Discontinue(ctx context.Context, id int64) (Product, error)
	// Reinstate puts a discontinued product back in the catalog. ECONFLICT if it
	// is on sale; ENOTFOUND if there is no such product.
	Reinstate(ctx context.Context, id int64) (Product, error)
	// Rename gives a product a new name; placed orders keep the name they were
	// placed with. EINVALID for a bad name; ECONFLICT if another product has that
	// name (case-insensitively, as AddProduct); ENOTFOUND if there is no such product.
	Rename(ctx context.Context, id int64, name string) (Product, error)
	// Describe replaces a product's description ("" removes it). EINVALID for a
	// bad description; ENOTFOUND if there is no such product.
	Describe(ctx context.Context, id int64, description string) (Product, error)
	// SetCategory puts a product in a category ("" takes it out of any). Category
	// names follow the rules of product names (CleanName) and compare as names do
	// (FoldKey): the first spelling given is kept, so "mugs" joins "Mugs".
	// EINVALID for a bad name; ENOTFOUND if there is no such product.
	SetCategory(ctx context.Context, id int64, category string) (Product, error)
	// SuggestSearch returns text with each word that no product holds replaced
	// by the closest word that one does (a typo: "mgu" gives "mug"), or "" when
	// every word is found or one has nothing close.
	SuggestSearch(ctx context.Context, text string) (string, error)
	// ImportProducts adds the rows whose names are new and updates the products
	// whose names they are (compared as FoldKey): price, description, category
	// and stock, set to the row's (the difference counts as units received or
	// taken back); a discontinued product stays discontinued. Rows are checked
	// as CheckRow checks them, and two rows of one name are refused: EINVALID
	// naming the line of the first bad row. All rows or none, in one
	// transaction; with dryRun nothing changes and the result says what would.
	// Its budget is the Store's, or ImportBudget if that is longer: a whole
	// catalog is more than one ordinary call.
	ImportProducts(ctx context.Context, rows []ProductRow, dryRun bool) (ImportResult, error)
	// Categories lists the categories of the products on sale, with how many each
	// holds, by name compared as FoldKey compares. Products in no category are not
	// counted.
	Categories(ctx context.Context) ([]Category, error)

	// Checkout places one order, in one transaction: every line's stock is taken at
	// the current price, or nothing is. Duplicate products in o.Items are merged.
	// ECONFLICT names the short line with the lowest catalog number ("only 2 Blue
	// Mug left", "Blue Mug is sold out") or a discontinued product ("Blue Mug is no
	// longer sold"); ENOTFOUND for an unknown product; EINVALID for an empty order,
	// a bad quantity (merged lines above MaxQty too) or a bad customer name. With
	// o.AccountID set, the order belongs to that account and buys the account's
	// saved cart: o.Items (merged) must be exactly what the saved cart holds at that
	// moment, else ErrCartChanged (ECONFLICT) and nothing is placed, so a stale copy
	// of a cart cannot buy what another connection changed or bought already; the
	// saved cart is emptied in the same transaction. When Checkout returns, the order is
	// durable. Concurrent checkouts may be committed together (group commit): one
	// checkout's refusal never undoes another, and if the shared commit itself
	// fails, every checkout in it gets the error, so none is acknowledged. If ctx
	// ends before the checkout starts, ctx.Err() is returned and nothing is placed.
	//
	// o.Token names the checkout: a checkout with the token of an order already
	// placed places nothing and returns that order, so a checkout can be sent again
	// safely. A backend fills in a token when o.Token is empty. When the outcome of
	// the commit cannot be learnt in time (the database was lost during COMMIT and
	// stayed away), the error is ErrUnconfirmed, and Orders with OrderFilter.Token
	// settles it later. EUNAVAILABLE (ErrUnavailable) means nothing was placed.
	Checkout(ctx context.Context, o NewOrder) (Order, error)
	// Orders lists orders, newest first, filtered as filter says.
	Orders(ctx context.Context, filter OrderFilter) ([]Order, error)
	// Order returns one order with its lines. ENOTFOUND if there is none.
	Order(ctx context.Context, id int64) (Order, error)
	// Ship marks a placed order shipped. ECONFLICT unless it is placed.
	Ship(ctx context.Context, id int64) (Order, error)
	// Cancel cancels a placed order and puts its units back in stock, in one
	// transaction. ECONFLICT unless it is placed.
	Cancel(ctx context.Context, id int64) (Order, error)
	// CreateAccount adds a customer account with an already hashed password.
	// EINVALID for a bad name (CleanName) or an empty hash; ECONFLICT if the name
	// is taken, compared case-insensitively.
	CreateAccount(ctx context.Context, name string, passwordHash []byte) (Account, error)
	// AccountByName returns an account by name, compared case-insensitively.
	// ENOTFOUND if there is none.
	AccountByName(ctx context.Context, name string) (Account, error)
	// Accounts lists every account with its number of orders, by name compared
	// case-insensitively.
	Accounts(ctx context.Context) ([]AccountSummary, error)
	// SavedCart returns an account's saved cart, in the order first added; empty
	// if none (or no such account). Products discontinued since are still returned.
	SavedCart(ctx context.Context, accountID int64) ([]CartItem, error)
	// SaveCart replaces an account's saved cart (nil empties it); duplicates are
	// merged, discontinued products kept. EINVALID for a quantity outside
	// 1..MaxQty; ENOTFOUND for an unknown account or product.
	SaveCart(ctx context.Context, accountID int64, items []CartItem) error
	// ChangeCart replaces an account's saved cart with to, only if it holds
	// exactly from (as SavedCart returns it) at that moment: ErrCartChanged
	// (ECONFLICT) otherwise, and nothing changes. Two connections of one account
	// thus never overwrite each other's changes. Errors as SaveCart's otherwise.
	ChangeCart(ctx context.Context, accountID int64, from, to []CartItem) error

	// Sales sums units and revenue of orders not cancelled, per product, in catalog
	// order; products never sold are left out.
	Sales(ctx context.Context) ([]Sale, error)
	// SalesFor is Sales for the orders placed in period p.
	SalesFor(ctx context.Context, p Period) ([]Sale, error)

	// AddAccountKey binds an SSH public key to an account, so that the key logs
	// the account in, and returns it with the time it was added. EINVALID for an
	// empty fingerprint or key; ENOTFOUND for an unknown account; ECONFLICT if
	// the key is bound already (to this account or another), or the account
	// holds MaxAccountKeys keys.
	AddAccountKey(ctx context.Context, accountID int64, key AccountKey) (AccountKey, error)
	// AccountByKey returns the account the key with this fingerprint is bound
	// to. ENOTFOUND if it is bound to none.
	AccountByKey(ctx context.Context, fingerprint string) (Account, error)
	// AccountKeys lists an account's keys, oldest first; empty for an unknown
	// account.
	AccountKeys(ctx context.Context, accountID int64) ([]AccountKey, error)
	// RemoveAccountKey unbinds a key from an account. ENOTFOUND if the account
	// holds no key with this fingerprint.
	RemoveAccountKey(ctx context.Context, accountID int64, fingerprint string) error

	// InitSetting keeps value under key unless the key has a value already, and
	// returns the value the key holds now: of several instances starting at once
	// on one database, every one gets the value of the first. Settings are the
	// store's own small facts, such as its SSH host key. EINVALID for an empty key
	// or value.
	InitSetting(ctx context.Context, key string, value []byte) ([]byte, error)

	// Close releases the store; it waits for writes in flight.
	Close() error

	Admin // the operator's methods, in admin.go
}

// Product is one line of the catalog.
type Product struct {
	ID           int64 // catalog number, from 1
	Name         string
	Description  string
	Price        Cents
	Stock        int // units on hand
	Received     int // units ever received: Stock + units in orders not cancelled + units written off (Admin.AdjustStock)
	Discontinued bool
	Category     string // "" for none
}

// Category is one category of the catalog with its number of products on sale.
type Category struct {
	Name     string
	Products int
}

// NewProduct is what the manager gives to add a product.
type NewProduct struct {
	Name        string
	Description string
	Price       Cents
	Stock       int
}

// ProductFilter narrows Products.
type ProductFilter struct {
	All    bool   // include discontinued products
	Search string // words of name or description, ranked (see Store.Products); "" for all
	// Category keeps only the products of this category, compared as FoldKey
	// compares; "" for all.
	Category string
}

// Sale is one product's line in the sales report.
type Sale struct {
	ProductID int64
	Name      string
	Category  string // the product's category now; "" for none
	Units     int
	Revenue   Cents
}

// OrderStatus is where an order is in its life.
type OrderStatus string

// The statuses an order passes through: placed, then shipped or cancelled.
const (
	StatusPlaced    OrderStatus = "placed"
	StatusShipped   OrderStatus = "shipped"
	StatusCancelled OrderStatus = "cancelled"
)

// Order is a placed order. Lines keep the unit price at the time of purchase.
type Order struct {
	ID        int64
	Customer  string
	AccountID int64 // 0 for a guest order
	Lines     []OrderLine
	Total     Cents
	Status    OrderStatus
	Placed    time.Time
}

// Units is the number of units over all lines.
func (o Order) Units() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Qty
	}
	return n
}

// NewOrder is what a checkout asks for.
type NewOrder struct {
	Customer  string // the name the order is for
	AccountID int64  // the account placing it; 0 for a guest
	Items     []CartItem
	// Token is the checkout's identity, fixed before it is sent (NewToken): it is
	// stored with the order, under a unique constraint, so that the order can be
	// found, and is placed at most once, whatever becomes of the connection that
	// carried it. "" lets the backend choose one.
	Token string
}

// Account is a returning customer's account.
type Account struct {
	ID           int64
	Name         string
	PasswordHash []byte // a slow salted hash (bcrypt); never the password
	Created      time.Time
}

// AccountKey is an SSH public key bound to an account.
type AccountKey struct {
	Fingerprint string // SHA256:…, as ssh-keygen -l shows it; one account at most holds it
	PublicKey   string // the key as authorized_keys has it: "ssh-ed25519 AAAA…"
	Added       time.Time
}

// MaxAccountKeys is the most SSH keys one account may hold.
const MaxAccountKeys = 20

// NameConflict is an account that cannot log in because of the account name rule
// (see the stores' CreateAccount): its name is refused by the rule, or it is the
// same name as an older account's (WithID). Such accounts were made before the
// rule; they are reported when the store opens, never merged.
type NameConflict struct {
	ID       int64
	Name     string
	WithID   int64 // the older account of the same name; 0 if the name is refused
	WithName string
	Reason   string
}

// AccountSummary is an account as the manager's accounts list shows it.
type AccountSummary struct {
	ID      int64
	Name    string
	Created time.Time
	Orders  int
	Locked  bool // the manager locked it (Admin.LockAccount)
}

// OrderLine is one product in an order.
type OrderLine struct {
	ProductID int64
	Name      string
	Qty       int
	UnitPrice Cents
}

// Subtotal is Qty times UnitPrice.
func (l OrderLine) Subtotal() Cents { return l.UnitPrice * Cents(l.Qty) }

// Period is a span of time: from Since (inclusive) to Before (exclusive); a zero
// end is unbounded.
type Period struct {
	Since, Before time.Time
}

// OrderFilter narrows Orders.
type OrderFilter struct {
	IDs       []int64     // only these orders, if not nil
	AccountID int64       // only this account's orders, if not 0
	Status    OrderStatus // only this status, if not ""
	Limit     int         // at most this many, if positive
	// Placed keeps only the orders placed in this period, if it is not zero.
	Placed Period
	// Token, if not "", keeps only the order placed by the checkout with that
	// token. The answer is final: a commit of that checkout still in flight is
	// waited for (within the call's deadline), so an empty answer means the
	// checkout was not, and will not be, placed.
	Token string
}
