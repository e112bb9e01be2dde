package shell

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/storify/storify"
)

// Hub is what the manager sees of the connected customers: the server's own
// (server.Server) or, when several instances share the store, every live
// instance's (server.Cluster). Asking other instances takes time and may fail, so
// the calls take a context and return an error.
type Hub interface {
	// Roster lists the connected customers, each instance's oldest connection
	// first, and names the instances that did not answer.
	Roster(ctx context.Context) (Roster, error)
	// KickSession says goodbye to a customer and disconnects them; ENOTFOUND if no
	// such session.
	KickSession(ctx context.Context, ref SessionRef) error
	// Say sends a message to every connected customer and says how many were told.
	Say(ctx context.Context, msg string) (Told, error)
	// NotifyOrder sends a message to the customers connected to this instance
	// whose order o is (its account's sessions, or the session that placed it)
	// and returns how many. Other instances learn of the order from the store.
	NotifyOrder(o storify.Order, msg string) int
}

// Roster is the customers connected to the store.
type Roster struct {
	Customers []CustomerInfo
	// Missing names the instances that did not answer in time: their customers
	// are not in the list.
	Missing []string
}

// Told is how many customers a message reached.
type Told struct {
	Customers int
	// Missing names the instances that did not answer in time: their customers
	// may not have been told.
	Missing []string
}

// CustomerInfo describes one connected customer.
type CustomerInfo struct {
	ID         int64
	Instance   string // the instance the customer is connected to; "" when only one runs
	Addr       string
	Name       string // given at checkout, or the account's; "" before either
	Account    string // the account logged in; "" for a guest
	Since      time.Time
	LastActive time.Time
	CartUnits  int
}

// Ref is how the manager names the customer's session.
func (c CustomerInfo) Ref() SessionRef { return SessionRef{ID: c.ID, Instance: c.Instance} }

// SessionRef names a customer's session: its number on its instance, and the
// instance when several run ("" for this one, or the only one).
type SessionRef struct {
	ID       int64
	Instance string
}

// String is the session as customers shows it and kick takes it: 3, or 3@shop1:65432.
func (r SessionRef) String() string {
	if r.Instance == "" {
		return strconv.FormatInt(r.ID, 10)
	}
	return strconv.FormatInt(r.ID, 10) + "@" + r.Instance
}

// ParseSessionRef reads a session as customers shows it: N, or N@INSTANCE.
func ParseSessionRef(s string) (SessionRef, error) {
	num, instance, at := strings.Cut(strings.TrimSpace(s), "@")
	id, err := storify.ParseID(num)
	if err != nil {
		return SessionRef{}, storify.Errorf(storify.EINVALID, "%q is not a session: type its number, or NUMBER@INSTANCE, as customers shows it", safe(s, 80))
	}
	if at {
		if err := storify.CheckInstanceName(instance); err != nil {
			return SessionRef{}, err
		}
	}
	return SessionRef{ID: id, Instance: instance}, nil
}

// Manager is the manager's console session.
type Manager struct {
	*Shell[*Manager]
	store   storify.Store
	hub     Hub
	bans    Banner
	hostKey string
}

// ManagerPrompt is the prompt the manager of the named store types commands at.
func ManagerPrompt(storeName string) string { return storeName + " manager> " }

// ManagerConfig configures the manager's console.
type ManagerConfig struct {
	StoreName string
	Log       *slog.Logger
	// HostKey is the SSH host key's fingerprint, shown by hostkey; "" when the
	// store does not serve SSH.
	HostKey string

	// Script says the commands come from a script (a pipe, a file, storify exec)
	// rather than from someone at a terminal: no prompts, no questions (a missing
	// argument fails the command), and each failure is one line on Errors.
	Script bool
	// Errors is where a script's failures go; it must be set when Script is.
	Errors io.Writer
	// FailFast stops a script at its first failed command.
	FailFast bool
	// ScriptPrompt is written before each line of a script is read, "" for none:
	// a program that drives the console line by line can wait for it.
	ScriptPrompt string
	// Bans, if set, is where ban and unban keep addresses out; nil when no
	// customer server runs.
	Bans Banner
	// Metrics, if set, is told of every command, as the "manager" set.
	Metrics storify.CommandMetrics
}

// NewManager returns a manager session on term; hub may be nil when no server runs.
func NewManager(store storify.Store, hub Hub, term Term, cfg ManagerConfig) *Manager {
	m := &Manager{store: store, hub: hub, bans: cfg.Bans, hostKey: cfg.HostKey}
	prompt := ManagerPrompt(cfg.StoreName)
	if cfg.Script {
		prompt = cfg.ScriptPrompt
	}
	m.Shell = newShell(m, managerCommands, term, prompt, cfg.Log)
	m.setMetrics("manager", cfg.Metrics)
	m.lookup = func(ctx context.Context, name string) error {
		_, err := m.findProduct(ctx, name)
		return err
	}
	m.names = m.knownNames
	m.scripted, m.errw, m.failFast = cfg.Script, cfg.Errors, cfg.FailFast
	return m
}

// managerCommands is the manager's command table.
var managerCommands = func() *Table[*Manager] {
	product := Arg{Name: "PRODUCT", Prompt: "Product (number or name): ", Greedy: true, Kind: KindProduct}
	order := Arg{Name: "N", Prompt: "Order number: ", Valid: validOrder}
	price := Arg{Name: "PRICE", Prompt: "Price: ", Valid: validPrice}
	return NewTable(append(append([]*Command[*Manager]{
		{Name: "products", Args: []Arg{{Name: "PAGE", Optional: true}}, Help: "list every product, discontinued ones too", Run: (*Manager).products},
		{Name: "show", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt, Rest: true, Kind: KindProduct}},
			Help: "show a product in full: stock, units received, sold and written off, revenue, adjustments", Run: (*Manager).show},
		{Name: "addproduct", Args: []Arg{
			{Name: "NAME", Prompt: "Name: ", Greedy: true}, price, {Name: "STOCK", Prompt: "Stock: ", Valid: validStock},
			{Name: "DESCRIPTION", Optional: true, Rest: true}}, Flags: []string{"--free"},
			Help: "add a product to the catalog (a price of 0.00 asks first, or takes --free)", Run: (*Manager).addProduct},
		{Name: "restock", Args: []Arg{product, {Name: "QTY", Prompt: "Units received: ", Valid: validUnits}},
			Help: "add QTY received units to a product's stock", Run: (*Manager).restock},
		{Name: "adjust", Args: []Arg{product, {Name: "-N", Prompt: "Units (-N to write off, +N to put back): ", Valid: validAdjustment},
			{Name: "REASON", Prompt: "Reason: ", Rest: true}},
			Help: "correct a product's stock (-N writes N units off, +N puts them back), with a reason kept in the audit trail", Run: (*Manager).adjust},
		{Name: "price", Args: []Arg{product, {Name: "PRICE", Prompt: "New price: ", Valid: validPrice}}, Flags: []string{"--free"},
			Help: "change a product's price; placed orders keep theirs (0.00 asks first, or takes --free)", Run: (*Manager).price},
		{Name: "discontinue", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt, Rest: true, Kind: KindProduct}},
			Help: "stop selling a product", Run: (*Manager).discontinue},
		{Name: "rename", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt}, {Name: "NAME", Prompt: "New name: ", Rest: true}},
			Help: "rename a product (placed orders keep the old name); quote a product name with spaces", Run: (*Manager).rename},
		{Name: "describe", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt}, {Name: "TEXT", Prompt: "Description: ", Rest: true}},
			Help: "replace a product's description; quote a product name with spaces", Run: (*Manager).describe},
		{Name: "category", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt}, {Name: "NAME", Prompt: "Category (none for none): ", Rest: true}},
			Help: "put a product in a category (none takes it out); quote a product name with spaces", Run: (*Manager).category},
		{Name: "reinstate", Args: []Arg{{Name: "PRODUCT", Prompt: product.Prompt, Rest: true}},
			Help: "put a discontinued product back on sale", Run: (*Manager).reinstate},
		{Name: "import", Args: []Arg{{Name: "FILE", Prompt: "CSV file: ", Rest: true}},
			Help: "add or update products from a CSV file (name,price,stock,description,category): checks it, says what changes, asks", Run: (*Manager).importFile},
		{Name: "export", Args: []Arg{{Name: "WHAT", Prompt: "Export products, orders or sales: "}, {Name: "FILE", Prompt: "CSV file: ", Rest: true}},
			Help: "write products, orders or sales to a CSV file a spreadsheet opens", Run: (*Manager).exportFile},
		{Name: "orders", Args: []Arg{{Name: "FILTER", Optional: true, Rest: true, Kind: KindStatus}},
			Help: "list the orders, newest first: [placed|shipped|cancelled] [account NAME] [name NAME] [from DATE] [to DATE]", Run: (*Manager).reportOrders},
		{Name: "order", Args: []Arg{order}, Help: "show one order", Run: (*Manager).order},
		{Name: "ship", Args: []Arg{order}, Help: "mark a placed order shipped; a connected customer is told", Run: (*Manager).ship},
		{Name: "cancel", Args: []Arg{order}, Help: "cancel a placed order and put its units back; a connected customer is told", Run: (*Manager).cancel},
		{Name: "customers", Aliases: []string{"who"}, Help: "list the connected customers, of every instance of the store", Run: (*Manager).customers},
		{Name: "kick", Args: []Arg{{Name: "ID", Prompt: "Session id: ", Valid: validSession}}, Help: "disconnect a customer, on any instance: the ID as customers shows it", Run: (*Manager).kick},
		{Name: "say", Args: []Arg{{Name: "MESSAGE", Prompt: "Message: ", Rest: true}},
			Help: "send a message to every connected customer, on every instance", Run: (*Manager).say},
		{Name: "sales", Args: []Arg{{Name: "FILTER", Optional: true, Rest: true}},
			Help: "revenue and units sold per product: [from DATE] [to DATE] [by category]", Run: (*Manager).reportSales},
		{Name: "lowstock", Args: []Arg{{Name: "N", Optional: true}}, Help: "products on sale with N (default 10) or fewer left, fewest first", Run: (*Manager).lowStock},
		{Name: "accounts", Help: "list customer accounts with their order counts", Run: (*Manager).accounts},
		{Name: "hostkey", Help: "show the fingerprint of the store's SSH host key", Run: (*Manager).showHostKey},
		{Name: "next", Aliases: []string{"n"}, Help: "show the next page of the last list (or just press Enter)", Run: (*Manager).nextPage},
		{Name: "prev", Help: "show the previous page of the last list", Run: (*Manager).prevPage},
		{Name: "page", Args: []Arg{{Name: "N", Prompt: "Page: "}}, Help: "show page N of the last list", Run: (*Manager).page},
	}, adminCommands()...), &Command[*Manager]{Name: "exit", Aliases: []string{"quit"}, Help: "close the store and exit", Run: (*Manager).exit}))
}()

// knownNames lists the products' or the accounts' names, for completion.
func (m *Manager) knownNames(ctx context.Context, kind ArgKind) []string {
	var names []string
	switch kind {
	case KindProduct:
		ps, _ := m.store.Products(ctx, storify.ProductFilter{All: true})
		for _, p := range ps {
			names = append(names, p.Name)
		}
	case KindAccount:
		as, _ := m.store.Accounts(ctx)
		for _, a := range as {
			names = append(names, a.Name)
		}
	}
	return names
}

// findProduct is findProduct for the manager, whose catalog command is products.
func (m *Manager) findProduct(ctx context.Context, s string) (storify.Product, error) {
	return findProductHint(ctx, m.store, s, "products")
}

func (m *Manager) products(ctx context.Context, a Args) error {
	page := 1
	if arg := a.Get("PAGE"); arg != "" {
		var err error
		if page, err = parsePage(arg); err != nil {
			return err
		}
	}
	return m.showList(ctx, m.productsListing(), page)
}

func (m *Manager) addProduct(ctx context.Context, a Args) error {
	price, err := storify.ParseCents(a.Get("PRICE"))
	if err != nil {
		return err
	}
	if price == 0 {
		if ok, err := m.confirm(fmt.Sprintf("Give %s away, at a price of 0.00?", safe(a.Get("NAME"), 40)), "--free", a); !ok || err != nil {
			return cancelled(err)
		}
	}
	stock, err := storify.ParseStock(a.Get("STOCK"))
	if err != nil {
		return err
	}
	p, err := m.store.AddProduct(ctx, storify.NewProduct{
		Name: a.Get("NAME"), Price: price, Stock: stock, Description: a.Get("DESCRIPTION"),
	})
	if err != nil {
		return err
	}
	m.printf("Added #%d %s at %s, %d in stock.\n", p.ID, p.Name, p.Price, p.Stock)
	return nil
}

func (m *Manager) restock(ctx context.Context, a Args) error {
	qty, err := storify.ParseUnits(a.Get("QTY"))
	if err != nil {
		return err
	}
	p, err := m.findProduct(ctx, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p, err = m.store.Restock(ctx, p.ID, qty); err != nil {
		return err
	}
	m.printf("#%d %s: %d in stock.\n", p.ID, p.Name, p.Stock)
	return nil
}

func (m *Manager) price(ctx context.Context, a Args) error {
	price, err := storify.ParseCents(a.Get("PRICE"))
	if err != nil {
		return err
	}
	p, err := m.findProduct(ctx, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	old := p.Price
	if price == 0 && old != 0 {
		if ok, err := m.confirm(fmt.Sprintf("Give %s away, at a price of 0.00?", p.Name), "--free", a); !ok || err != nil {
			return cancelled(err)
		}
	}
	if p, err = m.store.SetPrice(ctx, p.ID, price); err != nil {
		return err
	}
	m.printf("#%d %s: price %s (was %s).\n", p.ID, p.Name, p.Price, old)
	return nil
}

func (m *Manager) discontinue(ctx context.Context, a Args) error {
	p, err := m.findProduct(ctx, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p, err = m.store.Discontinue(ctx, p.ID); err != nil {
		return err
	}
	m.printf("#%d %s is discontinued.\n", p.ID, p.Name)
	return nil
}

func (m *Manager) order(ctx context.Context, a Args) error {
	id, err := parseOrder(a.Get("N"))
	if err != nil {
		return err
	}
	o, err := m.store.Order(ctx, id)
	if err != nil {
		return err
	}
	writeOrder(m.term, o)
	return nil
}

func (m *Manager) ship(ctx context.Context, a Args) error {
	id, err := parseOrder(a.Get("N"))
	if err != nil {
		return err
	}
	o, err := m.store.Ship(ctx, id)
	if err != nil {
		return err
	}
	m.printf("Order #%d for %s is shipped.%s\n", o.ID, shown(o.Customer),
		m.notify(o, OrderNotice(o)))
	return nil
}

func (m *Manager) cancel(ctx context.Context, a Args) error {
	id, err := parseOrder(a.Get("N"))
	if err != nil {
		return err
	}
	o, err := m.store.Cancel(ctx, id)
	if err != nil {
		return err
	}
	m.printf("Order #%d for %s is cancelled; %s back in stock.%s\n", o.ID, shown(o.Customer), count(o.Units(), "unit"),
		m.notify(o, OrderNotice(o)))
	return nil
}

// OrderNotice is what the customer of an order shipped or cancelled is told.
func OrderNotice(o storify.Order) string {
	if o.Status == storify.StatusCancelled {
		return fmt.Sprintf("Your order #%d has been cancelled by the store.", o.ID)
	}
	return fmt.Sprintf("Your order #%d has shipped.", o.ID)
}

// notify tells the order's customer, if connected, and says so for the manager.
func (m *Manager) notify(o storify.Order, msg string) string {
	if m.hub == nil || m.hub.NotifyOrder(o, msg) == 0 {
		return ""
	}
	return " The customer is told."
}

func (m *Manager) accounts(ctx context.Context, _ Args) error {
	return m.showList(ctx, m.accountsListing(), 1)
}

func (m *Manager) customers(ctx context.Context, _ Args) error {
	if m.hub == nil {
		return storify.Errorf(storify.ECONFLICT, "no customer server is running")
	}
	r, err := m.hub.Roster(ctx)
	cs := r.Customers
	switch {
	case len(cs) == 0 && err != nil:
		return err
	case len(cs) == 0 && len(r.Missing) > 0:
		m.printf("No customers connected to the instances that answered.\n")
	case len(cs) == 0:
		m.printf("No customers connected.\n")
	default:
		m.writeCustomers(cs)
	}
	if len(r.Missing) > 0 {
		m.printf("%s; %s customers are not listed.\n", didNotAnswer(r.Missing), theirs(r.Missing))
	}
	return err
}

// writeCustomers writes the table of the connected customers. With several
// instances a session is N@INSTANCE, which is long: its column is as wide as the
// longest, and aligned left.
func (m *Manager) writeCustomers(cs []CustomerInfo) {
	idFormat := "%4s"
	if cs[0].Instance != "" {
		w := 0
		for _, c := range cs {
			w = max(w, len(c.Ref().String()))
		}
		idFormat = "%-" + strconv.Itoa(w) + "s"
	}
	now := time.Now()
	m.printf(idFormat+"  %-22s  %-26s  %-8s  %8s  %4s\n", "ID", "Address", "Name", "Since", "Idle", "Cart")
	for _, c := range cs {
		name := shown(c.Name)
		switch {
		case c.Account != "":
			name = shown(c.Account) + " (account)"
		case name == "":
			name = "(guest)"
		}
		m.printf(idFormat+"  %-22s  %s  %-8s  %8s  %4d\n", c.Ref(), shown(c.Addr), pad(name, 26), c.Since.Local().Format("15:04:05"),
			now.Sub(c.LastActive).Round(time.Second), c.CartUnits)
	}
	m.printf("%d connected.\n", len(cs))
}

// didNotAnswer names the instances that did not answer, in a sentence.
func didNotAnswer(names []string) string {
	if len(names) == 1 {
		return "Instance " + names[0] + " did not answer"
	}
	return "Instances " + strings.Join(names, ", ") + " did not answer"
}

func theirs(names []string) string {
	if len(names) == 1 {
		return "its"
	}
	return "their"
}

func (m *Manager) kick(ctx context.Context, a Args) error {
	if m.hub == nil {
		return storify.Errorf(storify.ECONFLICT, "no customer server is running")
	}
	ref, err := ParseSessionRef(a.Get("ID"))
	if err != nil {
		return err
	}
	if err := m.hub.KickSession(ctx, ref); err != nil {
		return err
	}
	m.printf("Customer %s is disconnected.\n", ref)
	return nil
}

// MaxMessage bounds a message to the customers, in bytes.
const MaxMessage = 1000

func (m *Manager) say(ctx context.Context, a Args) error {
	if m.hub == nil {
		return storify.Errorf(storify.ECONFLICT, "no customer server is running")
	}
	msg := strings.TrimSpace(a.Get("MESSAGE"))
	if !storify.Printable(msg) || msg == "" {
		return storify.Errorf(storify.EINVALID, "the message is empty or has characters that cannot be shown")
	}
	if len(msg) > MaxMessage {
		return storify.Errorf(storify.EINVALID, "the message is %d bytes long; at most %d are sent", len(msg), MaxMessage)
	}
	told, err := m.hub.Say(ctx, msg)
	if told.Customers > 0 || err == nil {
		m.printf("Sent to %s.\n", count(told.Customers, "customer"))
	}
	if len(told.Missing) > 0 {
		m.printf("%s; %s customers may not have been told.\n", didNotAnswer(told.Missing), theirs(told.Missing))
	}
	return err
}

// writeSales writes the sales report, one line per product and the total.
func (m *Manager) writeSales(ss []storify.Sale) {
	width := nameWidth(func(yield func(string) bool) {
		for _, s := range ss {
			if !yield(s.Name) {
				return
			}
		}
	}, 7)
	var units int
	var revenue storify.Cents
	m.printf("%4s  %s  %7s  %12s\n", "#", pad("Product", width), "Units", "Revenue")
	for _, s := range ss {
		m.printf("%4d  %s  %7d  %12s\n", s.ProductID, pad(s.Name, width), s.Units, s.Revenue)
		units += s.Units
		revenue += s.Revenue
	}
	m.printf("%4s  %s  %7d  %12s\n", "", pad("Total", width), units, revenue)
}

func (m *Manager) exit(context.Context, Args) error {
	m.printf("Closing the store.\n")
	return errQuit
}

// Checks of an argument's form, for Arg.Valid.
func validUnits(s string) error      { _, err := storify.ParseUnits(s); return err }
func validStock(s string) error      { _, err := storify.ParseStock(s); return err }
func validPrice(s string) error      { _, err := storify.ParseCents(s); return err }
func validSession(s string) error    { _, err := ParseSessionRef(s); return err }
func validOrder(s string) error      { _, err := parseOrder(s); return err }
func validAdjustment(s string) error { _, err := storify.ParseAdjustment(s); return err }

// parseOrder reads an order number; order 0 is not a bad number but one that no
// order has.
func parseOrder(s string) (int64, error) {
	id, err := storify.ParseID(s)
	if t := strings.TrimPrefix(strings.TrimSpace(s), "#"); err != nil && t != "" && strings.Trim(t, "0") == "" {
		return 0, storify.Errorf(storify.ENOTFOUND, "there is no order #0: order numbers start at 1; type orders to list them")
	}
	return id, err
}

// cancelled is what a handler returns when the manager said no to a question: err
// if asking failed, else nothing (the command just did nothing).
func cancelled(err error) error {
	if err != nil {
		return err
	}
	return errNotDone
}

func (m *Manager) showHostKey(context.Context, Args) error {
	if m.hostKey == "" {
		m.printf("This store does not serve SSH (start it with --ssh-listen).\n")
		return nil
	}
	m.printf("SSH host key: %s\n", m.hostKey)
	return nil
}
