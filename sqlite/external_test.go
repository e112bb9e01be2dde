package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/storify/storify"
)

// TestAnotherProcessesWritesAreSeen: a Store that writes nothing itself (a running
// store whose manager is idle) sees the catalog change that another Store on the
// same file commits (storify exec), as a customer listing it would, without
// waiting for a write of its own.
func TestAnotherProcessesWritesAreSeen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := context.Background()
	running := mustOpen(t, path)
	p, err := running.AddProduct(ctx, storify.NewProduct{Name: "Lamp", Price: 2000, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := running.Products(ctx, storify.ProductFilter{}); err != nil || len(ps) != 1 || ps[0].Stock != 5 {
		t.Fatalf("Products = %v, %v", ps, err)
	}
	exec := mustOpen(t, path)
	if _, err := exec.Restock(ctx, p.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.SetPrice(ctx, p.ID, 1500); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := running.Product(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stock == 8 && got.Price == 1500 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running store still shows %+v after another store restocked and repriced it", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
