package simulate_test

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/simulate"
	"github.com/storify/storify/sqlite"
)

// catalog has plenty of some products and little of others, so that customers both
// buy and run into empty shelves; and names with spaces and digits.
var catalog = []storify.NewProduct{
	{Name: "Blue Mug", Price: 1250, Stock: 400},
	{Name: "Notebook", Price: 690, Stock: 1000},
	{Name: "Fountain Pen", Price: 3400, Stock: 4},
	{Name: "Tea Sampler", Description: "Six teas.", Price: 1875, Stock: 15},
	{Name: "3D Puzzle", Price: 999, Stock: 50},
	{Name: "Sticker Pack", Price: 300, Stock: 5000},
}

// startStore serves customers of a new SQLite store holding products, on a loopback
// port, and returns the address and the store.
func startStore(t *testing.T, products []storify.NewProduct) (string, *sqlite.Store) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "sim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, p := range products {
		if _, err := store.AddProduct(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := &server.Server{Name: "Sim", Log: log, Handler: server.Shop(store, "Sim", log)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String(), store
}

func TestRun(t *testing.T) {
	addr, store := startStore(t, catalog)
	var progress strings.Builder
	r, err := simulate.Run(context.Background(), simulate.Config{
		Addr: addr, Customers: 20, Duration: 2 * time.Second, Seed: 1, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	r.WriteTable(&table)
	t.Logf("\n%s", table.String())
	if r.Errors() != 0 {
		t.Errorf("%d errors: %q", r.Errors(), r.ErrorSamples)
	}
	if r.TotalCommands() == 0 {
		t.Error("no commands")
	}
	if len(r.Orders) == 0 {
		t.Error("no checkouts")
	}
	for _, c := range r.Commands {
		if c.Count != c.OK+c.Refused+c.Errors {
			t.Errorf("%s: count %d, but %d ok + %d refused + %d errors", c.Name, c.Count, c.OK, c.Refused, c.Errors)
		}
		if c.Count > 0 && c.Latency.Count() == 0 {
			t.Errorf("%s: no latency recorded", c.Name)
		}
	}
	if q := r.Command("quit"); q.OK != 20 {
		t.Errorf("%d customers said goodbye, want 20", q.OK)
	}
	if r.Command("checkout").OK != int64(len(r.Orders)) {
		t.Errorf("%d checkouts, %d orders", r.Command("checkout").OK, len(r.Orders))
	}
	for _, want := range []string{"checkouts", "commands", "p99", "list", "checkout"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table has no %q", want)
		}
	}
	if pr := progress.String(); !strings.Contains(pr, "\r") || !strings.Contains(pr, " 20 connected ") ||
		!strings.Contains(pr, " commands/s ") || !strings.Contains(pr, " checkouts/s ") || !strings.Contains(pr, " errors") {
		t.Errorf("progress = %q", progress.String())
	}
	if err := simulate.Verify(context.Background(), store, r); err != nil {
		t.Error(err)
	}
	// The Fountain Pen ran out: the store never sold more than it had.
	ps, _ := store.Products(context.Background(), storify.ProductFilter{All: true})
	for _, p := range ps {
		if p.Stock < 0 || p.Received != mustStock(t, p.Name) {
			t.Errorf("%s: stock %d, received %d", p.Name, p.Stock, p.Received)
		}
	}
}

func mustStock(t *testing.T, name string) int {
	for _, p := range catalog {
		if p.Name == name {
			return p.Stock
		}
	}
	t.Fatalf("no product %q", name)
	return 0
}

// TestVerifyCatchesLies: a report that disagrees with the store fails verification.
func TestVerifyCatchesLies(t *testing.T) {
	_, store := startStore(t, catalog[:2])
	ctx := context.Background()
	o, err := store.Checkout(ctx, storify.NewOrder{Customer: "sim-1", Items: []storify.CartItem{{ProductID: 1, Qty: 2}, {ProductID: 2, Qty: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	truth := simulate.PlacedOrder{ID: o.ID, Customer: "sim-1", Units: 3, Total: 2*1250 + 690,
		Lines: []storify.CartItem{{ProductID: 1, Qty: 1}, {ProductID: 2, Qty: 1}, {ProductID: 1, Qty: 1}}}
	if err := simulate.Verify(ctx, store, &simulate.Report{Orders: []simulate.PlacedOrder{truth}}); err != nil {
		t.Fatalf("the truth fails: %v", err)
	}
	lies := map[string]func(o *simulate.PlacedOrder){
		"is not in the store":               func(o *simulate.PlacedOrder) { o.ID = 99 },
		"confirmed as 3 units, total 31.91": func(o *simulate.PlacedOrder) { o.Total = 3191 },
		"confirmed as 4 units":              func(o *simulate.PlacedOrder) { o.Units = 4 },
		`confirmed to "sim-2"`:              func(o *simulate.PlacedOrder) { o.Customer = "sim-2" },
		"cart held [1×#1 1×#2]":             func(o *simulate.PlacedOrder) { o.Lines = o.Lines[:2] },
	}
	for want, lie := range lies {
		o := truth
		lie(&o)
		err := simulate.Verify(ctx, store, &simulate.Report{Orders: []simulate.PlacedOrder{o}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("lie %q: Verify = %v", want, err)
		}
	}
	err = simulate.Verify(ctx, store, &simulate.Report{Orders: []simulate.PlacedOrder{truth, truth}})
	if err == nil || !strings.Contains(err.Error(), "confirmed twice") {
		t.Errorf("an order confirmed twice: Verify = %v", err)
	}
}

// badStore is a store whose stock does not add up.
type badStore struct{}

func (badStore) Products(context.Context, storify.ProductFilter) ([]storify.Product, error) {
	return []storify.Product{
		{ID: 1, Name: "Blue Mug", Stock: -1, Received: 3},
		{ID: 2, Name: "Notebook", Stock: 5, Received: 5},
		{ID: 3, Name: "Pen", Stock: 4, Received: 5},
		{ID: 4, Name: "Lamp", Stock: 5, Received: 5},
	}, nil
}

func (badStore) Orders(context.Context, storify.OrderFilter) ([]storify.Order, error) {
	return []storify.Order{
		{ID: 1, Customer: "a", Total: 100, Status: storify.StatusPlaced,
			Lines: []storify.OrderLine{{ProductID: 1, Qty: 2, UnitPrice: 50}}},
		{ID: 2, Customer: "b", Total: 90, Status: storify.StatusCancelled,
			Lines: []storify.OrderLine{{ProductID: 2, Qty: 1, UnitPrice: 100}}},
		{ID: 3, Customer: "c", Total: 0, Status: storify.StatusShipped,
			Lines: []storify.OrderLine{{ProductID: 7, Qty: 1}}},
	}, nil
}

// Adjustments writes off one Pen, as the stock says, and one Lamp that is still
// counted in stock.
func (badStore) Adjustments(context.Context, int64) ([]storify.Adjustment, error) {
	return []storify.Adjustment{{ID: 1, ProductID: 3, Delta: -1, Reason: "broken"}, {ID: 2, ProductID: 4, Delta: -1, Reason: "lost"}}, nil
}

func TestVerifyCatchesBadStock(t *testing.T) {
	err := simulate.Verify(context.Background(), badStore{}, &simulate.Report{})
	if err == nil {
		t.Fatal("Verify passed a store with negative stock")
	}
	for _, want := range []string{
		"product #1 Blue Mug: negative stock -1",
		"product #1 Blue Mug: -1 in stock + 2 in orders = 1, but 3 were received and 0 written off",
		"product #4 Lamp: 5 in stock + 0 in orders = 5, but 5 were received and 1 written off",
		"order #2: total 0.90, but its lines add up to 1.00",
		"orders hold 1 units of product #7",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Verify did not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "Notebook") {
		t.Errorf("a cancelled order's units were counted:\n%v", err)
	}
	if strings.Contains(err.Error(), "Pen") {
		t.Errorf("a write-off was not counted:\n%v", err)
	}
}

// TestRunCountsErrors: a server that does not speak the store's language makes errors,
// not a hang.
func TestRunCountsErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for n := 0; ; {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			n++
			go func(silent bool) {
				defer conn.Close()
				conn.Write([]byte("Welcome to Fake. Type help or ? to list commands.\r\nFake> "))
				sc := bufio.NewScanner(conn)
				for sc.Scan() {
					if !silent {
						conn.Write([]byte("Unknown command \"x\". Type help to list commands.\r\nFake> "))
					}
				}
			}(n%2 == 0) // every other customer gets no reply at all: a timeout
		}
	}()
	start := time.Now()
	r, err := simulate.Run(context.Background(), simulate.Config{
		Addr: l.Addr().String(), Customers: 2, Duration: 300 * time.Millisecond, Timeout: 100 * time.Millisecond, Grace: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the run took %v", took)
	}
	if r.Errors() == 0 || len(r.ErrorSamples) == 0 {
		t.Fatalf("no errors counted: %+v", r)
	}
	for _, want := range []string{`list: Unknown command "x"`, "list: no reply within 100ms"} {
		if !strings.Contains(strings.Join(r.ErrorSamples, "\n"), want) {
			t.Errorf("no error %q in %q", want, r.ErrorSamples)
		}
	}
}

// TestRunNoStore: with nothing listening, Run says so at once, instead of retrying
// for the whole run and reporting an empty table.
func TestRunNoStore(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := simulate.Run(ctx, simulate.Config{Addr: addr, Customers: 2, Duration: time.Hour})
	if !errors.Is(err, simulate.ErrNoStore) || r != nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Run against nothing: %v, report %v; want ErrNoStore naming %s and no report", err, r, addr)
	}
}

// TestRunRefusesEmptyCatalog: a store with nothing for sale is not simulated: its
// customers could only list it, and the run would verify nothing.
func TestRunRefusesEmptyCatalog(t *testing.T) {
	addr, store := startStore(t, nil)
	r, err := simulate.Run(context.Background(), simulate.Config{Addr: addr, Customers: 2, Duration: time.Hour})
	if !errors.Is(err, simulate.ErrEmptyCatalog) || r != nil || !strings.Contains(err.Error(), "add products first") {
		t.Errorf("Run against an empty store: %v, report %v; want ErrEmptyCatalog", err, r)
	}
	p, err := store.AddProduct(context.Background(), storify.NewProduct{Name: "Gone", Price: 100, Stock: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Discontinue(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := simulate.Run(context.Background(), simulate.Config{Addr: addr, Customers: 2, Duration: time.Hour}); !errors.Is(err, simulate.ErrEmptyCatalog) {
		t.Errorf("Run against a store whose products are all discontinued: %v; want ErrEmptyCatalog", err)
	}
}

func TestRunBadConfig(t *testing.T) {
	for _, cfg := range []simulate.Config{
		{Customers: 1, Duration: time.Second},
		{Addr: "127.0.0.1:1", Duration: time.Second},
		{Addr: "127.0.0.1:1", Customers: 1},
	} {
		if _, err := simulate.Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) = nil error", cfg)
		}
	}
}

// TestRunInterrupted: when the caller's context ends, Run returns at once with what
// it saw, and counts no errors of its own making.
func TestRunInterrupted(t *testing.T) {
	addr, _ := startStore(t, catalog)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := simulate.Run(ctx, simulate.Config{Addr: addr, Customers: 4, Duration: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) || r == nil || !r.Interrupted {
		t.Fatalf("Run = %v, %v", r, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Run took %v after its context ended", took)
	}
	if r.Errors() != 0 || r.TotalCommands() == 0 {
		t.Errorf("%d errors, %d commands: %q", r.Errors(), r.TotalCommands(), r.ErrorSamples)
	}
}
