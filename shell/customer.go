package shell

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// Customer is one shopper's session: a Term, a cart, the orders placed in it. The
// server runs one per connection; nothing in it knows about sockets.
type Customer struct {
	*Shell[*Customer]
	store storify.Store

	catalog       *CatalogCache
	addr          string             // the customer's network address, for the login throttle
	key           storify.AccountKey // the SSH key the customer came in with; zero if none
	throttle      *LoginThrottle
	passwords     *Passwords
	registrations *RegisterThrottle

	mu      sync.Mutex // guards what follows
	name    string     // given at checkout, or the account's name
	account *storify.Account
	cart    storify.Cart
	orders  []int64 // placed in this session, oldest first
	hinted  bool    // the hint under the catalog was shown once
	// unconfirmed is the token of the last checkout, if the store could not
	// confirm it (storify.ErrUnconfirmed); orders and checkout settle it first.
	unconfirmed string

	// catalogList is the catalog as list pages it, made at the first list; only
	// the session's own commands touch it.
	catalogList *listing

	// state is what the manager and order notices read: a copy published after
	// every command, so that reading it never waits for a command in progress
	// (one that waits on the database, say).
	state atomic.Pointer[customerState]
}

// customerState is a published, immutable copy of what others may read of a
// Customer.
type customerState struct {
	name      string
	account   string
	accountID int64
	cartUnits int
	// orders shares the Customer's slice: the session only appends to it, or
	// starts a new one (log out), so the elements a published state holds are
	// never written again, and a checkout need not copy every order before it.
	orders []int64
}

// publish makes the customer's current state the one others read; it allocates
// only when something changed.
func (c *Customer) publish() {
	c.mu.Lock()
	next := customerState{name: c.name, cartUnits: c.cart.Units(), orders: c.orders}
	if c.account != nil {
		next.account, next.accountID = c.account.Name, c.account.ID
	}
	c.mu.Unlock()
	if old := c.state.Load(); old != nil && old.name == next.name && old.account == next.account &&
		old.accountID == next.accountID && old.cartUnits == next.cartUnits && sameOrders(old.orders, next.orders) {
		return
	}
	changed := next // only a changed state escapes to the heap
	c.state.Store(&changed)
}

// sameOrders reports whether a and b are the same orders of one session: the same
// length of one slice.
func sameOrders(a, b []int64) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (c *Customer) published() *customerState {
	if st := c.state.Load(); st != nil {
		return st
	}
	return &customerState{}
}

// CustomerConfig configures a customer session.
type CustomerConfig struct {
	StoreName string
	Log       *slog.Logger
	// LogID, if not 0, is logged as "session" with errors. (A logger made with
	// With per session would cost every idle connection its preformatted copy.)
	LogID int64
	// Addr is the customer's address, and Throttle the login throttle shared by
	// all sessions; a nil Throttle gets one of the session's own.
	Addr     string
	Throttle *LoginThrottle
	// Passwords hashes and checks passwords within the process's CPU budget; nil
	// gets the process's shared Passwords of cost BcryptCost.
	Passwords *Passwords
	// BcryptCost is the password hashing cost without Passwords; 0 means
	// bcrypt.DefaultCost.
	BcryptCost int
	// Registrations limits sign-ups, shared by all sessions; nil gets one of the
	// session's own.
	Registrations *RegisterThrottle
	// Catalog, if set, is a rendering cache shared by all sessions.
	Catalog *CatalogCache
	// Metrics, if set, is told of every command (as the "customer" set), failed
	// login and throttled login.
	Metrics storify.CommandMetrics
	// Key is the SSH public key the customer connected with (its Added is
	// unused); zero for none. register binds it to the new account, keys add
	// to the one logged in.
	Key storify.AccountKey
}

// CustomerPrompt is the prompt customers of the named store type commands at.
func CustomerPrompt(storeName string) string { return storeName + "> " }

// NewCustomer returns a customer session on term.
func NewCustomer(store storify.Store, term Term, cfg CustomerConfig) *Customer {
	c := &Customer{
		store: store, catalog: cfg.Catalog, addr: cfg.Addr, key: cfg.Key,
		throttle: cfg.Throttle, passwords: cfg.Passwords, registrations: cfg.Registrations,
	}
	if c.throttle == nil {
		c.throttle = NewLoginThrottle()
	}
	if c.passwords == nil {
		c.passwords = sharedPasswords(cfg.BcryptCost)
	}
	if c.registrations == nil {
		c.registrations = NewRegisterThrottle(0)
	}
	c.Shell = newShell(c, customerCommands, term, CustomerPrompt(cfg.StoreName), cfg.Log)
	c.setMetrics("customer", cfg.Metrics)
	c.logID = cfg.LogID
	c.Shell.published = c.publish
	c.names = c.productNames
	return c
}

// customerCommands is the customers' command table, shared by every customer session.
var customerCommands = func() *Table[*Customer] {
	product := Arg{Name: "PRODUCT", Prompt: "Product (number or name): ", Greedy: true, Kind: KindProduct}
	return NewTable([]*Command[*Customer]{
		{Name: "list", Aliases: []string{"ls", "catalog"}, Args: []Arg{{Name: "WHAT", Optional: true, Rest: true}},
			Help: "show the catalog, or one CATEGORY, a page at a time: list, list PAGE, list CATEGORY [PAGE]", Run: (*Customer).list},
		{Name: "categories", Help: "list the categories of the catalog", Run: (*Customer).categories},
		{Name: "search", Aliases: []string{"find"}, Args: []Arg{{Name: "TEXT", Prompt: "Search for: ", Rest: true}},
			Help: "find products by words of their name or description, best matches first", Run: (*Customer).search},
		{Name: "show", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt, Rest: true, Kind: KindProduct}},
			Help: "show one product in full", Run: (*Customer).show},
		{Name: "add", Args: []Arg{product, {Name: "QTY", Optional: true}},
			Help: "put QTY units (default 1) of a product in your cart", Run: (*Customer).add},
		{Name: "remove", Aliases: []string{"rm"}, Args: []Arg{product, {Name: "QTY", Optional: true}},
			Help: "take QTY units (default all) of a product out of your cart", Run: (*Customer).remove},
		{Name: "cart", Help: "show your cart", Run: (*Customer).showCart},
		{Name: "checkout", Aliases: []string{"buy"}, Args: []Arg{{Name: "NAME", Optional: true, Rest: true}},
			Help:  "place an order for everything in your cart (asks your name unless you are logged in)",
			Check: (*Customer).cartNotEmpty, Run: (*Customer).checkout},
		{Name: "orders", Help: "show your orders (your account's, or this session's as a guest)", Run: (*Customer).listOrders},
		{Name: "order", Args: []Arg{{Name: "N", Prompt: "Order number: "}}, Help: "show one of your orders", Run: (*Customer).showOrder},
		{Name: "register", Args: []Arg{{Name: "NAME", Prompt: "Choose a name: ", Rest: true}},
			Help: "open an account: your cart and orders are kept between visits", Check: (*Customer).loggedOut, Run: (*Customer).register},
		{Name: "login", Args: []Arg{{Name: "NAME", Prompt: "Name: ", Rest: true}},
			Help: "log in to your account", Check: (*Customer).loggedOut, Run: (*Customer).login},
		{Name: "logout", Help: "log out; your cart stays saved in your account", Run: (*Customer).logout},
		{Name: "whoami", Help: "say whether you are logged in, and as whom", Run: (*Customer).whoami},
		{Name: "next", Aliases: []string{"n"}, Help: "show the next page of the last list (or just press Enter)", Run: (*Customer).nextPage},
		{Name: "prev", Aliases: []string{"p"}, Help: "show the previous page of the last list", Run: (*Customer).prevPage},
		{Name: "page", Args: []Arg{{Name: "N", Prompt: "Page: "}}, Help: "show page N of the last list", Run: (*Customer).page},
		{Name: "keys", Args: []Arg{{Name: "ACTION", Optional: true}, {Name: "N", Optional: true}},
			Help: "list the SSH keys that log you in; keys add binds this connection's, keys remove N unbinds one", Run: (*Customer).keys},
		{Name: "quit", Aliases: []string{"exit", "bye"}, Help: "leave the store", Run: (*Customer).quit},
	})
}()

// Name is the account's name when logged in, else the name given at checkout, ""
// before that. Like Account, Owns and CartUnits, it reads the state published after
// the last command, and never waits for the command in progress.
func (c *Customer) Name() string { return c.published().name }

// Account is the name of the account logged in, "" for a guest.
func (c *Customer) Account() string { return c.published().account }

// Owns reports whether an order is this customer's: their account's, or placed in
// this session.
func (c *Customer) Owns(o storify.Order) bool {
	st := c.published()
	return st.accountID != 0 && o.AccountID == st.accountID || slices.Contains(st.orders, o.ID)
}

// CartUnits is the number of units in the customer's cart.
func (c *Customer) CartUnits() int { return c.published().cartUnits }

func (c *Customer) list(ctx context.Context, a Args) error {
	page := 1
	// list [CATEGORY] [PAGE]: a last word of digits is a page.
	what := strings.TrimSpace(a.Get("WHAT"))
	if i := strings.LastIndexAny(what, " \t") + 1; isDigits(what[i:]) {
		var err error
		if page, err = parsePage(what[i:]); err != nil {
			return err
		}
		what = strings.TrimSpace(what[:i])
	}
	if what != "" {
		return c.listCategory(ctx, strings.Trim(what, `"'`), page)
	}
	if c.catalogList == nil {
		c.catalogList = c.catalogListing()
	}
	return c.showList(ctx, c.catalogList, page)
}

// catalogListing is the catalog as customers list it. A session makes it once:
// list is the command customers type most. The whole catalog, or its first page,
// is rendered once for every session (CatalogCache).
func (c *Customer) catalogListing() *listing {
	var p productPage
	return &listing{
		noun: "products", empty: "The catalog is empty.", jump: "list PAGE",
		load: func(ctx context.Context, from, to int) (int, error) {
			return p.load(ctx, c.store, storify.ProductFilter{}, from, to)
		},
		render: func(b []byte, from, to int) []byte {
			if b == nil {
				return c.catalog.render(p.rows(from, to)) // shared with other sessions: only written
			}
			return append(b, c.catalog.render(p.rows(from, to))...)
		},
		after: c.hint,
	}
}

// hint is the line under the first catalog a session sees.
func (c *Customer) hint() string {
	c.mu.Lock()
	hinted := c.hinted
	c.hinted = true
	c.mu.Unlock()
	if hinted {
		return ""
	}
	return "Type show N for details, add N to put one in your cart.\n"
}

func (c *Customer) search(ctx context.Context, a Args) error {
	text := strings.TrimSpace(a.Get("TEXT"))
	ps, err := c.store.Products(ctx, storify.ProductFilter{Search: text})
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		// A typo ("mgu"): search for the closest words the catalog has instead,
		// and say so.
		fixed, err := c.store.SuggestSearch(ctx, text)
		if err != nil {
			return err
		}
		if fixed == "" {
			c.printf("Nothing matches %q.\n", safe(text, 40))
			return nil
		}
		c.printf("Nothing matches %q. Did you mean %s? Here is what that finds:\n", safe(text, 40), fixed)
		text = fixed
		if ps, err = c.store.Products(ctx, storify.ProductFilter{Search: text}); err != nil {
			return err
		}
	}
	loaded := true // the first page shows ps; a later one searches again
	return c.showList(ctx, &listing{
		noun: "products found", empty: fmt.Sprintf("Nothing matches %q.", safe(text, 40)), jump: "page N",
		load: func(ctx context.Context, _, _ int) (n int, err error) {
			if !loaded {
				ps, err = c.store.Products(ctx, storify.ProductFilter{Search: text})
			}
			loaded = false
			return len(ps), err
		},
		render: func(b []byte, from, to int) []byte { return appendCatalog(b, ps[from:to], false) },
	}, 1)
}

func (c *Customer) show(ctx context.Context, a Args) error {
	p, err := findProduct(ctx, c.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	writeProduct(c.term, p)
	if n := c.cartQty(ctx, p.ID); n > 0 {
		c.printf("In your cart: %d\n", n)
	}
	return nil
}

func (c *Customer) cartQty(ctx context.Context, id int64) int {
	items, _, err := c.currentCart(ctx)
	if err != nil {
		return 0
	}
	return storify.NewCart(items).Qty(id)
}

// optionalQty reads an optional quantity argument; def when it was not given.
func optionalQty(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return storify.ParseQty(s)
}

func (c *Customer) add(ctx context.Context, a Args) error {
	qty, err := optionalQty(a.Get("QTY"), 1)
	if err != nil {
		return err
	}
	p, err := findProduct(ctx, c.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p.Discontinued {
		return storify.Errorf(storify.ECONFLICT, "%s is no longer sold", p.Name)
	}
	var n int
	err = c.updateCart(ctx, func(cart *storify.Cart) (err error) {
		if want := cart.Qty(p.ID) + qty; want > p.Stock {
			return shortError(p)
		}
		n, err = cart.Add(p.ID, qty)
		return err
	})
	if err != nil {
		return err
	}
	c.printf("Added %d %s to your cart (%d in cart, %s each).\n", qty, p.Name, n, p.Price)
	return nil
}

// currentCart returns the customer's cart and account (0 for a guest). A logged-in
// customer's cart is the account's saved cart, read now: every connection of the
// account shows the same cart, and a change made on another one shows at the next
// command. The session keeps what it read (CartUnits).
func (c *Customer) currentCart(ctx context.Context) ([]storify.CartItem, int64, error) {
	c.mu.Lock()
	acct, items := c.account, c.cart.Items()
	c.mu.Unlock()
	if acct == nil {
		return items, 0, nil
	}
	saved, err := c.store.SavedCart(ctx, acct.ID)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	if c.account == acct {
		c.cart = *storify.NewCart(saved)
	}
	c.mu.Unlock()
	return saved, acct.ID, nil
}

// maxCartRetries bounds how often a change is redone because another connection
// of the account changed the cart in between.
const maxCartRetries = 5

// updateCart changes the cart through change. A logged-in customer's change is
// made to the saved cart as it is now, and saved only if no other connection
// changed it meanwhile (else it is redone on the new cart); if saving fails, the
// cart stays as it was.
func (c *Customer) updateCart(ctx context.Context, change func(*storify.Cart) error) error {
	for try := 0; ; try++ {
		items, accountID, err := c.currentCart(ctx)
		if err != nil {
			return err
		}
		next := storify.NewCart(items)
		if err := change(next); err != nil {
			return err
		}
		if accountID != 0 {
			err := c.store.ChangeCart(ctx, accountID, items, next.Items())
			if errors.Is(err, storify.ErrCartChanged) && try < maxCartRetries {
				continue
			} else if err != nil {
				return err
			}
		}
		c.mu.Lock()
		c.cart = *next
		c.mu.Unlock()
		return nil
	}
}

func shortError(p storify.Product) error {
	if p.Stock == 0 {
		return storify.Errorf(storify.ECONFLICT, "%s is sold out", p.Name)
	}
	return storify.Errorf(storify.ECONFLICT, "only %d %s left", p.Stock, p.Name)
}

func (c *Customer) remove(ctx context.Context, a Args) error {
	qty, err := optionalQty(a.Get("QTY"), 0)
	if err != nil {
		return err
	}
	p, err := findProduct(ctx, c.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	var left int
	err = c.updateCart(ctx, func(cart *storify.Cart) (err error) {
		if left, err = cart.Remove(p.ID, qty); err != nil {
			return storify.Errorf(storify.ENOTFOUND, "%s is not in your cart", p.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if left == 0 {
		c.printf("Removed %s from your cart.\n", p.Name)
	} else {
		c.printf("Removed %d %s; %d left in your cart.\n", qty, p.Name, left)
	}
	return nil
}

func (c *Customer) showCart(ctx context.Context, _ Args) error {
	items, _, err := c.currentCart(ctx)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		c.printf("Your cart is empty. Type add PRODUCT to fill it.\n")
		return nil
	}
	var total storify.Cents
	lines := make([]storify.OrderLine, 0, len(items))
	var notes []string
	for _, it := range items {
		p, err := c.store.Product(ctx, it.ProductID)
		if err != nil {
			return err
		}
		lines = append(lines, storify.OrderLine{ProductID: p.ID, Name: p.Name, Qty: it.Qty, UnitPrice: p.Price})
		total += p.Price * storify.Cents(it.Qty)
		switch {
		case p.Discontinued:
			notes = append(notes, fmt.Sprintf("%s is no longer sold; remove it to check out.", p.Name))
		case p.Stock < it.Qty:
			notes = append(notes, sentence(storify.ErrorMessage(shortError(p))))
		}
	}
	c.printf("Your cart:\n")
	writeLines(c.term, lines, total)
	for _, n := range notes {
		c.printf("Note: %s\n", n)
	}
	c.printf("Type checkout to place the order.\n")
	return nil
}

func (c *Customer) cartNotEmpty(ctx context.Context) error {
	if items, _, err := c.currentCart(ctx); err != nil {
		return err
	} else if len(items) == 0 {
		return storify.Errorf(storify.EINVALID, "your cart is empty; add something first")
	}
	return nil
}

func (c *Customer) checkout(ctx context.Context, a Args) error {
	items, _, err := c.currentCart(ctx) // an account buys its saved cart as it is now
	if err != nil {
		return err
	}
	c.mu.Lock()
	order := storify.NewOrder{Customer: a.Get("NAME"), Items: items}
	if c.account != nil {
		// A logged-in customer's order is theirs, in the account's name.
		if order.Customer != "" && username.Key(order.Customer) != username.Key(c.account.Name) {
			name := c.account.Name
			c.mu.Unlock()
			return storify.Errorf(storify.EINVALID, "you are logged in as %s, so orders are placed in that name; type checkout alone (or log out to order as a guest)", name)
		}
		order.AccountID, order.Customer = c.account.ID, c.account.Name
	}
	c.mu.Unlock()
	if len(items) == 0 {
		return storify.Errorf(storify.EINVALID, "your cart is empty; add something first")
	}
	if order.Customer == "" {
		v, err := c.ask("Your name: ")
		if err != nil || v == "" {
			return errCancelled(err)
		}
		order.Customer = v
	}
	name := order.Customer
	if order.AccountID == 0 {
		var err error
		if name, err = username.Nickname(name); err != nil {
			return err
		}
	}
	order.Customer = name
	// An earlier checkout that may have been placed is settled first, so that
	// trying again never buys twice.
	if placed, err := c.settle(ctx); err != nil || placed {
		return err
	}
	order.Token = storify.NewToken()
	o, err := c.store.Checkout(ctx, order)
	if errors.Is(err, storify.ErrUnconfirmed) {
		c.mu.Lock()
		c.unconfirmed = order.Token
		if c.account == nil {
			c.name = name
		}
		c.mu.Unlock()
		return err
	}
	if errors.Is(err, storify.ErrCartChanged) {
		c.currentCart(ctx) //nolint:errcheck // the next command reads it again anyway
		return storify.Errorf(storify.ECONFLICT, "no order was placed: your cart was changed or bought on another connection. Type cart to see it")
	}
	if err != nil {
		if code := storify.ErrorCode(err); code == storify.ECONFLICT || code == storify.ENOTFOUND {
			return storify.Errorf(code, "no order was placed: %s. Your cart is unchanged", storify.ErrorMessage(err))
		}
		return err
	}
	c.mu.Lock()
	c.cart.Clear() // the store emptied a logged-in customer's saved cart with the order
	if c.account == nil {
		c.name = name
	}
	c.orders = append(c.orders, o.ID)
	c.mu.Unlock()
	c.printf("Thank you, %s. Order #%d is placed: %s, total %s.\n", o.Customer, o.ID, count(o.Units(), "unit"), o.Total)
	return nil
}

// settle finds out what became of the checkout the store could not confirm, if any,
// and tells the customer: placed (its units leave the cart) or not. It reports
// whether it was placed.
func (c *Customer) settle(ctx context.Context) (placed bool, err error) {
	c.mu.Lock()
	token := c.unconfirmed
	c.mu.Unlock()
	if token == "" {
		return false, nil
	}
	os, err := c.store.Orders(ctx, storify.OrderFilter{Token: token})
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	c.unconfirmed = ""
	if len(os) > 0 {
		c.orders = append(c.orders, os[0].ID)
	}
	c.mu.Unlock()
	if len(os) == 0 {
		c.printf("Your last checkout was not placed; nothing was charged, and your cart is unchanged.\n")
		return false, nil
	}
	o := os[0]
	c.printf("Your last checkout went through after all: order #%d is placed: %s, total %s.\n", o.ID, count(o.Units(), "unit"), o.Total)
	c.mu.Lock()
	guest := c.account == nil
	if guest {
		for _, l := range o.Lines {
			c.cart.Remove(l.ProductID, l.Qty) //nolint:errcheck // a line no longer in the cart is fine
		}
	}
	c.mu.Unlock()
	if !guest {
		// The order emptied the saved cart with it: read the cart as it is now.
		_, _, err = c.currentCart(ctx)
	}
	return true, err
}

func (c *Customer) listOrders(ctx context.Context, _ Args) error {
	if _, err := c.settle(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	f := storify.OrderFilter{IDs: append([]int64{}, c.orders...)}
	if c.account != nil {
		f = storify.OrderFilter{AccountID: c.account.ID}
	}
	c.mu.Unlock()
	const none = "You have placed no orders yet."
	if f.AccountID == 0 && len(f.IDs) == 0 {
		c.printf("%s\n", none)
		return nil
	}
	var os []storify.Order
	return c.showList(ctx, &listing{
		noun: "orders", empty: none, jump: "page N",
		load: func(ctx context.Context, _, _ int) (n int, err error) {
			os, err = c.store.Orders(ctx, f)
			return len(os), err
		},
		render: func(b []byte, from, to int) []byte {
			for _, o := range os[from:to] {
				writeOrder(bytesWriter{&b}, o)
			}
			return b
		},
	}, 1)
}

// showOrder shows one of the customer's orders. Anyone else's order is answered
// exactly as one that does not exist.
func (c *Customer) showOrder(ctx context.Context, a Args) error {
	id, err := storify.ParseID(a.Get("N"))
	if err != nil {
		return err
	}
	o, err := c.store.Order(ctx, id)
	if err != nil && storify.ErrorCode(err) != storify.ENOTFOUND {
		return err
	}
	if err != nil || !c.Owns(o) {
		return storify.Errorf(storify.ENOTFOUND, "you have no order #%d", id)
	}
	writeOrder(c.term, o)
	return nil
}

func (c *Customer) quit(context.Context, Args) error {
	c.printf("Goodbye, come again.\n")
	return errQuit
}

func (c *Customer) nextPage(ctx context.Context, _ Args) error { return c.turnPage(ctx, true) }
func (c *Customer) prevPage(ctx context.Context, _ Args) error { return c.turnPage(ctx, false) }
func (c *Customer) page(ctx context.Context, a Args) error     { return c.gotoPage(ctx, a.Get("N")) }

// productNames lists the names of the products in the catalog, for completion (a
// line editor's Tab over SSH).
func (c *Customer) productNames(ctx context.Context, kind ArgKind) []string {
	if kind != KindProduct {
		return nil
	}
	ps, _ := c.store.Products(ctx, storify.ProductFilter{})
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}
