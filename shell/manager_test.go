package shell_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

type fakeHub struct {
	customers []shell.CustomerInfo
	missing   []string // instances that do not answer
	kicked    []int64
	said      []string
}

func (h *fakeHub) Roster(context.Context) (shell.Roster, error) {
	return shell.Roster{Customers: h.customers, Missing: h.missing}, nil
}
func (h *fakeHub) KickSession(_ context.Context, ref shell.SessionRef) error {
	for _, c := range h.customers {
		if c.Ref() == ref {
			h.kicked = append(h.kicked, ref.ID)
			return nil
		}
	}
	return storify.Errorf(storify.ENOTFOUND, "no customer session %s", ref)
}
func (h *fakeHub) Say(_ context.Context, msg string) (shell.Told, error) {
	h.said = append(h.said, msg)
	return shell.Told{Customers: len(h.customers), Missing: h.missing}, nil
}
func (h *fakeHub) NotifyOrder(o storify.Order, msg string) int {
	h.said = append(h.said, msg)
	return 1
}

func manage(t *testing.T, store storify.Store, hub shell.Hub, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, 1<<16)
	m := shell.NewManager(store, hub, term, shell.ManagerConfig{StoreName: "Test"})
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return out.String()
}

func TestManagerCatalog(t *testing.T) {
	store := mustOpenStore(t)
	out := manage(t, store, nil,
		`addproduct "Red Pen" 1.5 10 Writes red.`,
		"addproduct", "Green Pen", "2", "3",
		"restock red pen 5",
		"price 3 1.75",
		"discontinue Notebook",
		"products",
		"addproduct Notebook 1 1",
		"addproduct Pencil -1 1",
		"addproduct Pencil 1.999 1",
		"restock 1 0",
		"discontinue 2",
		"addproduct "+strings.Repeat("N", 61)+" 1 1",
		"addproduct Lamp 1 -5",
		"addproduct Lamp 1 ten",
		"addproduct Lamp 99999999999 1",
		"addproduct \"Lamp\x1b[31m\" 1 1",
		"price 1 12,50",
		"restock 1 9999999999",
	)
	wantContains(t, out,
		"Test manager> ",
		"Added #3 Red Pen at 1.50, 10 in stock.",
		"Name: Price: Stock: Added #4 Green Pen at 2.00, 3 in stock.",
		"#3 Red Pen: 15 in stock.",
		"#3 Red Pen: price 1.75 (was 1.50).",
		"#2 Notebook is discontinued.",
		"2  Notebook        6.90       50  (discontinued)",
		`"-1" is not a price`,
		`"1.999" is not a price`,
		`"0" is not a quantity`,
		"Notebook is discontinued already",
		"The product name is longer than 60 characters.",
		`"-5" is not a stock`,
		`"ten" is not a stock`,
		`"99999999999" is not a price`,
		"The product name has characters that cannot be shown.",
		`"12,50" is not a price`,
		`"9999999999" is not a quantity`,
	)
	if !strings.Contains(out, "Notebook") || strings.Count(out, "Added #") != 2 {
		t.Errorf("duplicate or bad products were added:\n%s", out)
	}
	p, _ := store.Product(context.Background(), 3)
	if p.Description != "Writes red." || p.Stock != 15 || p.Price != 175 {
		t.Errorf("Red Pen = %+v", p)
	}
}

func TestManagerOrders(t *testing.T) {
	store := mustOpenStore(t)
	ctx := context.Background()
	for _, name := range []string{"Ada", "Bob"} {
		if _, err := store.Checkout(ctx, storify.NewOrder{Customer: name, Items: []storify.CartItem{{ProductID: 1, Qty: 2}, {ProductID: 2, Qty: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	out := manage(t, store, nil, "orders", "order 1", "ship 1", "ship 1", "cancel #2", "cancel 2", "order 9", "orders placed", "orders bogus", "sales")
	wantContains(t, out,
		"    #2  Bob               placed         3       31.90",
		"Order #1 for Ada, placed",
		"      2 x Blue Mug       12.50       25.00",
		"Order #1 for Ada is shipped.",
		"Order #2 for Bob is cancelled; 3 units back in stock.",
		`"bogus" is not a status`,
		"   1  Blue Mug        2        25.00",
		"      Total           3        31.90",
	)
	if strings.Count(out, "for Ada is shipped") != 1 || strings.Count(out, "for Bob is cancelled") != 1 {
		t.Errorf("ship or cancel ran twice:\n%s", out)
	}
	if p, _ := store.Product(ctx, 1); p.Stock != 3 {
		t.Errorf("Blue Mug stock after cancel = %d, want 3", p.Stock)
	}
}

func TestManagerCustomers(t *testing.T) {
	store := mustOpenStore(t)
	now := time.Now()
	hub := &fakeHub{customers: []shell.CustomerInfo{
		{ID: 7, Addr: "127.0.0.1:5000", Name: "Ada", Since: now, LastActive: now, CartUnits: 3},
		{ID: 9, Addr: "[::1]:6000", Since: now, LastActive: now},
	}}
	out := manage(t, store, hub, "customers", "kick 9", "kick 10", "say Closing in 5 minutes", "say", "")
	wantContains(t, out,
		"   7  127.0.0.1:5000          Ada",
		"(guest)",
		"2 connected.",
		"Customer 9 is disconnected.",
		"No customer session 10",
		"Sent to 2 customers.",
		"Message: Cancelled.",
	)
	if len(hub.kicked) != 1 || hub.kicked[0] != 9 || len(hub.said) != 1 || hub.said[0] != "Closing in 5 minutes" {
		t.Errorf("hub saw kicks %v, messages %q", hub.kicked, hub.said)
	}
}

// TestManagerCustomersOfInstances: with several instances, sessions are N@INSTANCE
// in customers and in kick, whatever the instance name's length; the instances that
// did not answer are named on one line. A session kick cannot read, or a message
// longer than MaxMessage, is refused before anyone is asked.
func TestManagerCustomersOfInstances(t *testing.T) {
	store := mustOpenStore(t)
	now := time.Now()
	hub := &fakeHub{customers: []shell.CustomerInfo{
		{ID: 7, Instance: "a", Addr: "127.0.0.1:5000", Name: "Ada", Since: now, LastActive: now, CartUnits: 3},
		{ID: 12, Instance: "shop-b.example.com:65432", Addr: "[::1]:6000", Since: now, LastActive: now},
	}, missing: []string{"c:1"}}
	long := strings.Repeat("x", shell.MaxMessage+1)
	out := manage(t, store, hub, "customers", "kick 12@shop-b.example.com:65432", "kick 7@b", "kick 7@", "kick seven@a", "say "+long)
	wantContains(t, out,
		"ID                           Address ",
		"\n7@a                          127.0.0.1:5000          Ada ",
		"\n12@shop-b.example.com:65432  [::1]:6000              (guest) ",
		"2 connected.\nInstance c:1 did not answer; its customers are not listed.\n",
		"Customer 12@shop-b.example.com:65432 is disconnected.",
		"No customer session 7@b",
		"The instance name is empty",
		`"seven@a" is not a session: type its number, or NUMBER@INSTANCE, as customers shows it`,
		"The message is 1001 bytes long; at most 1000 are sent",
	)
	if len(hub.kicked) != 1 || hub.kicked[0] != 12 || len(hub.said) != 0 {
		t.Errorf("hub saw kicks %v, messages %d", hub.kicked, len(hub.said))
	}
}

// script runs lines as a manager's script and returns what went to stdout, what
// went to the error output, and the number of failures.
func script(t *testing.T, store storify.Store, failFast bool, lines ...string) (string, string, int) {
	t.Helper()
	var out, errs bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, 1<<16)
	m := shell.NewManager(store, nil, term, shell.ManagerConfig{StoreName: "Test", Script: true, Errors: &errs, FailFast: failFast})
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return out.String(), errs.String(), m.Failures()
}

// TestManagerScriptAsksNothing: in a script, a command missing an argument fails
// at once and the next line runs as a command; no prompt is written.
func TestManagerScriptAsksNothing(t *testing.T) {
	store := mustOpenStore(t)
	out, errs, failed := script(t, store, false, "addproduct Lamp", "20", "restock", "restock lamp 2", `say "unclosed`)
	wantErrs := "line 1: addproduct Lamp: PRICE is missing; usage: addproduct NAME PRICE STOCK [DESCRIPTION] [--free]\n" +
		"line 2: 20: Unknown command \"20\". Type help to list commands.\n" +
		"line 3: restock: PRODUCT is missing; usage: restock PRODUCT QTY\n" +
		"line 4: restock lamp 2: There is no product \"lamp\"; type products to see the catalog.\n" +
		"line 5: say \"unclosed: Missing closing \" quote.\n"
	if out != "" || errs != wantErrs || failed != 5 {
		t.Errorf("stdout %q\nerrors:\n%s\nwant:\n%s\nfailures %d, want 5", out, errs, wantErrs, failed)
	}
	out, errs, failed = script(t, store, true, "products", "nosuch", "products")
	if strings.Count(out, "Blue Mug") != 1 || strings.Count(errs, "\n") != 1 || failed != 1 {
		t.Errorf("fail-fast: stdout %q, errors %q, failures %d; want one products, one error", out, errs, failed)
	}
}

// TestManagerStrictArguments: words that could be read more than one way, or a
// value that does not fit after a product's name, are refused with a hint to
// quote the name; nothing is asked and nothing changes.
func TestManagerStrictArguments(t *testing.T) {
	store := mustOpenStore(t)
	out := manage(t, store, nil,
		"addproduct Model 3 10 5",
		"restock Blue Mug abc",
		"restock Blue Mug",
		"3",
		`addproduct "Model 3" 10 5`,
		"addproduct Model X 9.50 2 Small.",
		"restock model 3 2",
		"price Model X ten",
	)
	wantContains(t, out,
		`Test manager> Is the name "Model" or "Model 3"? Quote it to say which: addproduct "Model" 3 10 5, or addproduct "Model 3" 10 5.`+"\n",
		`Test manager> "abc" is not a quantity: type a whole number from 1 to 1000000000; quote product names with spaces: restock "Blue Mug" QTY.`+"\n",
		"Test manager> Units received: #1 Blue Mug: 8 in stock.\n",
		"Test manager> Added #3 Model 3 at 10.00, 5 in stock.\n",
		"Test manager> Added #4 Model X at 9.50, 2 in stock.\n",
		"Test manager> #3 Model 3: 7 in stock.\n",
		`Test manager> "ten" is not a price: type it like 12.50 (at most 1000000.00); quote product names with spaces: price "Blue Mug" PRICE.`+"\n",
	)
	if ps, _ := store.Products(context.Background(), storify.ProductFilter{All: true}); len(ps) != 4 || ps[3].Description != "Small." {
		t.Errorf("products = %+v", ps)
	}
}

// TestManagerCompletion: Tab offers what each argument takes.
func TestManagerCompletion(t *testing.T) {
	store := mustOpenStore(t) // Blue Mug, Notebook
	if _, err := store.AddProduct(context.Background(), storify.NewProduct{Name: "Blue Lamp", Price: 100, Stock: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateAccount(context.Background(), "Ada", []byte("hash")); err != nil {
		t.Fatal(err)
	}
	m := shell.NewManager(store, nil, shell.NewLineTerm(strings.NewReader(""), &bytes.Buffer{}, 1024), shell.ManagerConfig{StoreName: "Test"})
	for _, tc := range []struct {
		line, text string
		want       []string
	}{
		{"rest", "rest", []string{"restock"}},
		{"lock ", "", []string{"Ada"}},
		{"help ", "", nil}, // every command: checked below
		{"help pr", "pr", []string{"prev", "price", "products"}},
		{"orders ", "", []string{"all", "cancelled", "placed", "shipped"}},
		{"orders sh", "sh", []string{"shipped"}},
		{"restock ", "", []string{"Blue Mug", "Notebook", "Blue Lamp"}},
		{"restock blue ", "blue ", []string{"Blue Mug", "Blue Lamp"}},
		{"price blue m", "blue m", []string{"Blue Mug"}},
		{`discontinue "no`, "no", []string{`Notebook"`}},
		{"restock Blue Mug ", "", nil},
		{"restock Blue Mug 3", "", nil},
		{"order ", "", nil},
		{"nosuch ", "", nil},
	} {
		text, got := m.Complete(context.Background(), tc.line)
		if tc.line == "help " {
			if len(got) < 15 || !slices.Contains(got, "addproduct") || slices.Contains(got, "Blue Mug") {
				t.Errorf("Complete(%q) = %q, want every command and no product", tc.line, got)
			}
			continue
		}
		if text != tc.text || !slices.Equal(got, tc.want) {
			t.Errorf("Complete(%q) = %q, %q; want %q, %q", tc.line, text, got, tc.text, tc.want)
		}
	}
}

// TestManagerHelp: help names the manager's commands, and help COMMAND explains one.
func TestManagerHelp(t *testing.T) {
	out := manage(t, mustOpenStore(t), nil, "help", "help restock", "help nosuch", "restock nosuch 1")
	wantContains(t, out,
		"  addproduct NAME PRICE STOCK [DESCRIPTION] [--free]  add a product to the catalog",
		"restock PRODUCT QTY\n  add QTY received units to a product's stock\n",
		`Unknown command "nosuch"`,
		`There is no product "nosuch"; type products to see the catalog.`,
	)
}
