package shell

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/storify/storify"
)

// Customer is one shopper's session: a Term, a cart, the orders placed in it. The
// server runs one per connection; nothing in it knows about sockets.
type Customer struct {
	*Shell
	store storify.Store

	mu     sync.Mutex // guards name and cart: the manager's customers command reads them
	name   string
	cart   storify.Cart
	orders []int64 // placed in this session, oldest first
}

// CustomerConfig configures a customer session.
type CustomerConfig struct {
	StoreName string
	Log       *slog.Logger
	// OnCommand is called before each command runs (the server tracks idle time).
	OnCommand func()
}

// NewCustomer returns a customer session on term.
func NewCustomer(store storify.Store, term Term, cfg CustomerConfig) *Customer {
	c := &Customer{store: store}
	c.Shell = newShell(term, cfg.StoreName+"> ", cfg.Log, c.commands())
	c.onCommand = cfg.OnCommand
	return c
}

func (c *Customer) commands() []*Command {
	product := Arg{Name: "PRODUCT", Prompt: "Product (number or name): ", Greedy: true}
	return []*Command{
		{Name: "list", Aliases: []string{"ls", "catalog"}, Help: "show the catalog", Run: c.list},
		{Name: "search", Aliases: []string{"find"}, Args: []Arg{{Name: "TEXT", Prompt: "Search for: ", Rest: true}},
			Help: "find products whose name or description contains TEXT", Run: c.search},
		{Name: "show", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt, Rest: true}},
			Help: "show one product in full", Run: c.show},
		{Name: "add", Args: []Arg{product, {Name: "QTY", Optional: true}},
			Help: "put QTY units (default 1) of a product in your cart", Run: c.add},
		{Name: "remove", Aliases: []string{"rm"}, Args: []Arg{product, {Name: "QTY", Optional: true}},
			Help: "take QTY units (default all) of a product out of your cart", Run: c.remove},
		{Name: "cart", Help: "show your cart", Run: c.showCart},
		{Name: "checkout", Aliases: []string{"buy"}, Args: []Arg{{Name: "NAME", Prompt: "Your name: ", Rest: true}},
			Help: "place an order for everything in your cart", Check: c.cartNotEmpty, Run: c.checkout},
		{Name: "orders", Help: "show the orders you placed in this session", Run: c.listOrders},
		{Name: "quit", Aliases: []string{"exit", "bye"}, Help: "leave the store", Run: c.quit},
	}
}

// Name is the name the customer gave at checkout, "" before that.
func (c *Customer) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// CartUnits is the number of units in the customer's cart.
func (c *Customer) CartUnits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cart.Units()
}

func (c *Customer) list(ctx context.Context, _ Args) error {
	ps, err := c.store.Products(ctx, storify.ProductFilter{})
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		c.printf("The catalog is empty.\n")
		return nil
	}
	writeCatalog(c.term, ps, false)
	c.printf("Type show N for details, add N to put one in your cart.\n")
	return nil
}

func (c *Customer) search(ctx context.Context, a Args) error {
	text := strings.TrimSpace(a.Get("TEXT"))
	ps, err := c.store.Products(ctx, storify.ProductFilter{Search: text})
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		c.printf("Nothing matches %q.\n", safe(text, 40))
		return nil
	}
	writeCatalog(c.term, ps, false)
	return nil
}

func (c *Customer) show(ctx context.Context, a Args) error {
	p, err := findProduct(ctx, c.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	writeProduct(c.term, p)
	if n := c.cartQty(p.ID); n > 0 {
		c.printf("In your cart: %d\n", n)
	}
	return nil
}

func (c *Customer) cartQty(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cart.Qty(id)
}

func (c *Customer) add(ctx context.Context, a Args) error {
	qty := 1
	if s := a.Get("QTY"); s != "" {
		n, err := storify.ParseQty(s)
		if err != nil {
			return err
		}
		qty = n
	}
	p, err := findProduct(ctx, c.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p.Discontinued {
		return storify.Errorf(storify.ECONFLICT, "%s is no longer sold", p.Name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if want := c.cart.Qty(p.ID) + qty; want > p.Stock {
		return shortError(p)
	}
	n, err := c.cart.Add(p.ID, qty)
	if err != nil {
		return err
	}
	c.printf("Added %d %s to your cart (%d in cart, %s each).\n", qty, p.Name, n, p.Price)
	return nil
}

func shortError(p storify.Product) error {
	if p.Stock == 0 {
		return storify.Errorf(storify.ECONFLICT, "%s is sold out", p.Name)
	}
	return storify.Errorf(storify.ECONFLICT, "only %d %s left", p.Stock, p.Name)
}

func (c *Customer) remove(ctx context.Context, a Args) error {
	qty := 0
	if s := a.Get("QTY"); s != "" {
		n, err := storify.ParseQty(s)
		if err != nil {
			return err
		}
		qty = n
	}
	p, err := findProduct(ctx, c.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	left, err := c.cart.Remove(p.ID, qty)
	if err != nil {
		return storify.Errorf(storify.ENOTFOUND, "%s is not in your cart", p.Name)
	}
	if left == 0 {
		c.printf("Removed %s from your cart.\n", p.Name)
	} else {
		c.printf("Removed %d %s; %d left in your cart.\n", qty, p.Name, left)
	}
	return nil
}

func (c *Customer) showCart(ctx context.Context, _ Args) error {
	c.mu.Lock()
	items := c.cart.Items()
	c.mu.Unlock()
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

func (c *Customer) cartNotEmpty(context.Context) error {
	if c.CartUnits() == 0 {
		return storify.Errorf(storify.EINVALID, "your cart is empty; add something first")
	}
	return nil
}

func (c *Customer) checkout(ctx context.Context, a Args) error {
	name, err := storify.CleanName(a.Get("NAME"), "customer name")
	if err != nil {
		return err
	}
	c.mu.Lock()
	items := c.cart.Items()
	c.mu.Unlock()
	if len(items) == 0 {
		return storify.Errorf(storify.EINVALID, "your cart is empty; add something first")
	}
	o, err := c.store.Checkout(ctx, storify.NewOrder{Customer: name, Items: items})
	if err != nil {
		if code := storify.ErrorCode(err); code == storify.ECONFLICT || code == storify.ENOTFOUND {
			return storify.Errorf(code, "no order was placed: %s. Your cart is unchanged", storify.ErrorMessage(err))
		}
		return err
	}
	c.mu.Lock()
	c.cart.Clear()
	c.name = name
	c.orders = append(c.orders, o.ID)
	c.mu.Unlock()
	c.printf("Thank you, %s. Order #%d is placed: %d units, total %s.\n", o.Customer, o.ID, o.Units(), o.Total)
	return nil
}

func (c *Customer) listOrders(ctx context.Context, _ Args) error {
	c.mu.Lock()
	ids := append([]int64(nil), c.orders...)
	c.mu.Unlock()
	if len(ids) == 0 {
		c.printf("You have placed no orders yet.\n")
		return nil
	}
	os, err := c.store.Orders(ctx, storify.OrderFilter{IDs: ids})
	if err != nil {
		return err
	}
	for _, o := range os {
		writeOrder(c.term, o)
	}
	return nil
}

func (c *Customer) quit(context.Context, Args) error {
	c.printf("Goodbye, come again.\n")
	return errQuit
}
