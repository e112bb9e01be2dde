package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/sqlite"
)

// catalogShop starts a shop on a SQLite store of n products imported at once,
// with words a shop's names have, and returns its address.
func catalogShop(b *testing.B, n int) net.Addr {
	b.Helper()
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	adj := []string{"Blue", "Red", "Green", "Large", "Small", "Steel", "Oak", "Glass", "Linen", "Copper", "Matte", "Crème"}
	noun := []string{"Mug", "Plate", "Bowl", "Lamp", "Pen", "Notebook", "Chair", "Towel", "Kettle", "Vase", "Basket", "Clock"}
	rows := make([]storify.ProductRow, n)
	for i := range rows {
		rows[i] = storify.ProductRow{Line: i + 2,
			Name:        fmt.Sprintf("%s %s %s %06d", adj[i%len(adj)], adj[(i/7)%len(adj)], noun[(i/3)%len(noun)], i+1),
			Description: fmt.Sprintf("A %s %s for every day.", adj[(i/11)%len(adj)], noun[(i/13)%len(noun)]),
			Price:       storify.Cents(100 + i%5000), Stock: 1_000_000, Category: noun[(i/3)%len(noun)] + "s"}
	}
	start := time.Now()
	if _, err := store.ImportProducts(context.Background(), rows, false); err != nil {
		b.Fatal(err)
	}
	if n >= 100_000 {
		b.Logf("ImportProducts of %d rows: %v", n, time.Since(start))
	}
	srv := &server.Server{Name: "Bench", Handler: server.Shop(store, "Bench", slog.New(slog.DiscardHandler))}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	return l.Addr()
}

// BenchmarkCatalogRoundTrip is one customer's list (the first page) and search
// over loopback, at 20 and at 100,000 products, with the p50 of the round trip.
// The first search of each store, which builds the search index, is made before
// the timing.
func BenchmarkCatalogRoundTrip(b *testing.B) {
	for _, n := range []int{20, 100_000} {
		addr := catalogShop(b, n)
		for _, cmd := range []string{"list", "search bowl 000009", "search ketle", "categories"} {
			b.Run(fmt.Sprintf("%s/%d", cmd, n), func(b *testing.B) {
				conn, err := net.Dial("tcp", addr.String())
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				r := bufio.NewReader(conn)
				prompt := []byte("Bench> ")
				readPrompt := func() int {
					var got []byte
					for !bytes.HasSuffix(got, prompt) {
						line, err := r.ReadSlice(' ')
						if err != nil {
							b.Fatal(err)
						}
						got = append(got, line...)
					}
					return len(got)
				}
				readPrompt()
				line := []byte(cmd + "\r\n")
				conn.Write(line)
				readPrompt() // the first: builds the index, shows the hint
				times := make([]time.Duration, 0, 1024)
				bytesRead := 0
				for b.Loop() {
					t0 := time.Now()
					conn.Write(line)
					bytesRead = readPrompt()
					times = append(times, time.Since(t0))
				}
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(bytesRead), "reply-bytes")
			})
		}
	}
}
