package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify/postgres"
)

// postgresDSN returns a DSN for a new, empty schema on the test PostgreSQL server,
// dropped after the test; it skips the test when STORIFY_TEST_POSTGRES is unset.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("STORIFY_TEST_POSTGRES")
	if base == "" {
		t.Skip("STORIFY_TEST_POSTGRES is not set; skipping the PostgreSQL tests")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	schema := fmt.Sprintf("storify_cmd_%d", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(ctx)
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// TestTwoInstancesOnePostgres: two storify processes share one PostgreSQL store.
// Customers on both race for the last 10 units: exactly 10 orders. A restock made
// on one instance's console is what the other's customers see at once.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	a := startProgram(t, dsn, "--no-sample") // in-process, with the manager console
	b := startChild(t, dsn, "--no-sample")   // another process
	a.manager(`addproduct "Last Ten" 5 10`)
	a.manager(`addproduct Plenty 1 5`)

	var mu sync.Mutex
	placed, refused := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *customer
			if i%2 == 0 {
				c = dial(t, a.m.Addr())
			} else {
				c = dialAddr(t, b.addr)
			}
			c.do(`add "Last Ten"`)
			r := c.do(fmt.Sprintf("checkout racer%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case orderRe.MatchString(r):
				placed++
			case strings.Contains(r, "sold out") || strings.Contains(r, "only") || strings.Contains(r, "cart is empty"):
				refused++
			default:
				t.Errorf("checkout: %q", r)
			}
		}()
	}
	wg.Wait()
	if placed != 10 || refused != 30 {
		t.Errorf("%d placed, %d refused; want 10 and 30", placed, refused)
	}

	onB := dialAddr(t, b.addr)
	if r := onB.do("show Last Ten"); !strings.Contains(r, "Sold out.") {
		t.Errorf("instance B shows %q after the race", r)
	}
	a.manager("restock Plenty 7")
	if r := onB.do("show plenty"); !strings.Contains(r, "In stock: 12") {
		t.Errorf("instance B shows %q after a restock on A", r)
	}
	a.manager("price plenty 2.25")
	if r := onB.do("list"); !regexp.MustCompile(`Plenty\s+2\.25\r\n`).MatchString(r) {
		t.Errorf("instance B lists %q after a price change on A", r)
	}

	store, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p, err := store.ProductByName(context.Background(), "last ten")
	if err != nil || p.Stock != 0 || p.Received != 10 {
		t.Errorf("Last Ten = %+v, %v", p, err)
	}
}

// TestTwoInstancesOneHostKey: two instances on one PostgreSQL store present the
// same SSH host key, made by whichever started first and kept in the store, so a
// client behind a load balancer never sees "host key changed".
func TestTwoInstancesOneHostKey(t *testing.T) {
	dsn := postgresDSN(t)
	a := startProgram(t, dsn, "--no-sample", "--ssh-listen", "127.0.0.1:0")
	b := startChild(t, dsn, "--no-sample", "--ssh-listen", "127.0.0.1:0")
	if ka, kb := hostKeyLogged(t, a.log), hostKeyLogged(t, b.log); ka != kb {
		t.Errorf("host keys %s and %s, want one", ka, kb)
	}
}
