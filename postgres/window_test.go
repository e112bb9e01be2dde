package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// A read through one instance sees every change committed through another before the
// read began, less postgres.ReadWindow. Each restock through a is looked for on b
// ReadWindow after it returned: first with b otherwise idle, so that the round that
// serves the read is the one b's previous read asked for, just before the restock;
// then with b busy, customers listing the catalog all the while, so that reads are
// served from rounds that b's listener made ahead of need.
//
// Within the window a read may miss the change: the test counts how often a read
// made at once after the restock returned did, and logs it.
func TestReadsSeeChangesOlderThanTheWindow(t *testing.T) {
	const restocks = 100
	ctx := context.Background()
	sc := newSchema(t)
	// a's commits are not flushed to disk before they return, so that they are quick
	// and the round before each is as recent as it can be.
	a := mustOpen(t, withParams(t, sc.dsn, map[string]string{"synchronous_commit": "off"}))
	b := mustOpen(t, sc.dsn)
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 1})
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, a, b)

	// atOnce also reads right after the restock returned, which asks for a round
	// ahead of need when the last is old: not while b is idle, so that the read
	// ReadWindow later must go by the round b's previous read asked for.
	restock := func(what string, atOnce bool) {
		t.Helper()
		missedAtOnce := 0
		for i := range restocks {
			if mug, err = a.Restock(ctx, mug.ID, 1); err != nil {
				t.Fatalf("%s: restock %d: %v", what, i+1, err)
			}
			if !atOnce {
			} else if got, err := b.Product(ctx, mug.ID); err != nil {
				t.Fatal(err)
			} else if got.Stock != mug.Stock {
				missedAtOnce++
			}
			time.Sleep(postgres.ReadWindow)
			if got, err := b.Product(ctx, mug.ID); err != nil || got.Stock != mug.Stock {
				t.Errorf("%s: restock %d: read through b %v after it returned: stock %d, %v; want %d",
					what, i+1, postgres.ReadWindow, got.Stock, err, mug.Stock)
			}
		}
		if atOnce {
			t.Logf("%s: reads at once after the restock returned that missed it: %d of %d", what, missedAtOnce, restocks)
		}
	}
	restock("b idle", false)

	stop := browse(t, b)
	restock("b busy", true)
	stop()
}

// browse has four customers list s's catalog over and over until the returned stop
// is called, which waits for them.
func browse(t *testing.T, s *postgres.Store) (stop func()) {
	done := make(chan struct{})
	var browsing sync.WaitGroup
	for range 4 {
		browsing.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.Products(context.Background(), storify.ProductFilter{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	return func() {
		close(done)
		browsing.Wait()
	}
}
