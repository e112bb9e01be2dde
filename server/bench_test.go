package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/metrics"
	"github.com/storify/storify/server"
	"github.com/storify/storify/sqlite"
)

// benchShop starts a shop on a SQLite store with 20 products, like the compare
// benchmark's, and returns its address. With m, the server, the shop and the
// store report to it, as storify does with --metrics-listen.
func benchShop(b *testing.B, m *metrics.Metrics) net.Addr {
	b.Helper()
	opts := sqlite.Options{}
	if m != nil {
		opts.Metrics = m
	}
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	for i := 0; i < 20; i++ {
		p := storify.NewProduct{Name: fmt.Sprintf("item%02d", i), Price: storify.Cents(100 + i), Stock: 1_000_000_000}
		if _, err := store.AddProduct(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	srv := &server.Server{Name: "Bench", Handler: server.Shop(store, "Bench", slog.New(slog.DiscardHandler))}
	if m != nil {
		srv.Handler = server.Shop(store, "Bench", slog.New(slog.DiscardHandler), server.ShopOptions{Metrics: m})
		srv.Metrics = m
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	return l.Addr()
}

// roundTrips sends line and reads up to the prompt, once per iteration, on
// parallelism connections per CPU.
func roundTrips(b *testing.B, parallelism int, lines ...string) {
	roundTripsOn(b, benchShop(b, nil), parallelism, lines...)
}

// roundTripsMetered is roundTrips with every room reporting to Prometheus.
func roundTripsMetered(b *testing.B, parallelism int, lines ...string) {
	roundTripsOn(b, benchShop(b, metrics.New(metrics.Options{})), parallelism, lines...)
}

func roundTripsOn(b *testing.B, addr net.Addr, parallelism int, lines ...string) {
	prompt := []byte("Bench> ")
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", addr.String())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		readPrompt := func() error {
			for {
				line, err := r.ReadSlice(' ')
				if err != nil {
					return err
				}
				if bytes.HasSuffix(line, prompt) {
					return nil
				}
			}
		}
		if err := readPrompt(); err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			for _, line := range lines {
				if _, err := io.WriteString(conn, line+"\r\n"); err != nil {
					b.Error(err)
					return
				}
				if err := readPrompt(); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
}

// BenchmarkListRoundTrip: list over loopback, one customer at a time.
func BenchmarkListRoundTrip(b *testing.B) { roundTrips(b, 1, "list") }

// BenchmarkListRoundTrip100: list over loopback from 100 customers at once.
func BenchmarkListRoundTrip100(b *testing.B) { roundTrips(b, 50, "list") }

// BenchmarkListRoundTripMetered: BenchmarkListRoundTrip with the metrics on
// (storify --metrics-listen): what reporting a command costs.
func BenchmarkListRoundTripMetered(b *testing.B) { roundTripsMetered(b, 1, "list") }

// BenchmarkListRoundTripMetered100: BenchmarkListRoundTrip100 with the metrics on.
func BenchmarkListRoundTripMetered100(b *testing.B) { roundTripsMetered(b, 50, "list") }

// BenchmarkCheckoutRoundTrip100: add and a durable checkout from 100 customers.
func BenchmarkCheckoutRoundTrip100(b *testing.B) { roundTrips(b, 50, "add item01 1", "checkout bench") }
