package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkListDuringLoginFlood measures what a flood of password hashing does to
// everyone else: 50 connections log in and out as fast as they can (right
// passwords, so no throttle steps in: each login is one bcrypt at the default
// cost) while 4 shoppers type list. It reports the shoppers' list latency (p50,
// p99), the logins done per second and how many were told the store is busy,
// with the hashing budget (half the CPUs at once, a short queue) and without one
// (64 at once), for comparison. The figure the budget is for: list-p99 under
// 100 ms.
func BenchmarkListDuringLoginFlood(b *testing.B) {
	for _, bc := range []struct {
		name   string
		budget shell.PasswordBudget
	}{
		{"budget", shell.PasswordBudget{}},
		{"unbounded", shell.PasswordBudget{AtOnce: 64, Queue: 64, QueueWait: time.Minute}},
	} {
		b.Run(bc.name, func(b *testing.B) { loginFlood(b, bc.budget, 3*time.Second) })
	}
}

func loginFlood(b *testing.B, budget shell.PasswordBudget, d time.Duration) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(b.TempDir(), "flood.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Initialize(ctx, sampleCatalog); err != nil {
		b.Fatal(err)
	}
	const flooders, shoppers = 50, 4
	hash, err := bcrypt.GenerateFromPassword([]byte("flood-password"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	for i := range flooders {
		if _, err := store.CreateAccount(ctx, fmt.Sprintf("flood%d", i), hash); err != nil {
			b.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &server.Server{Name: "Test", Handler: server.Shop(store, "Test", nil, server.ShopOptions{
		Passwords: shell.NewPasswords(budget),
	})}
	go srv.Serve(l)
	defer srv.Shutdown(ctx)

	for b.Loop() {
		var logins, busy atomic.Int64
		var mu sync.Mutex
		var lists []time.Duration
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		for i := range flooders {
			wg.Go(func() {
				c := floodDial(b, l.Addr())
				defer c.Close()
				for time.Now().Before(stop) {
					c.say("login flood%d", i)
					c.until("Password: ")
					c.say("flood-password")
					got := c.until("Test> ")
					switch {
					case strings.Contains(got, "Welcome back"):
						logins.Add(1)
						c.say("logout")
						c.until("Test> ")
					case strings.Contains(got, "busy"):
						busy.Add(1)
					}
				}
			})
		}
		for range shoppers {
			wg.Go(func() {
				c := floodDial(b, l.Addr())
				defer c.Close()
				for time.Now().Before(stop) {
					start := time.Now()
					c.say("list")
					c.until("Test> ")
					lat := time.Since(start)
					mu.Lock()
					lists = append(lists, lat)
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		slices.Sort(lists)
		pct := func(p float64) float64 {
			return float64(lists[int(p*float64(len(lists)-1))]) / float64(time.Millisecond)
		}
		b.ReportMetric(pct(0.50), "list-p50-ms")
		b.ReportMetric(pct(0.99), "list-p99-ms")
		b.ReportMetric(float64(logins.Load())/d.Seconds(), "logins/s")
		b.ReportMetric(float64(busy.Load()), "busy")
		b.ReportMetric(float64(len(lists)), "lists")
	}
}

type floodConn struct {
	tb   testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func floodDial(tb testing.TB, addr net.Addr) *floodConn {
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		tb.Error(err)
		return nil
	}
	c := &floodConn{tb: tb, conn: conn, r: bufio.NewReader(conn)}
	c.until("Test> ")
	return c
}

func (c *floodConn) Close() { c.conn.Close() }

func (c *floodConn) say(format string, args ...any) {
	c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c.conn, fmt.Sprintf(format, args...)+"\r\n")
}

func (c *floodConn) until(marker string) string {
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	for !strings.HasSuffix(b.String(), marker) {
		ch, err := c.r.ReadByte()
		if err != nil {
			c.tb.Errorf("waiting for %q: %v; got %q", marker, err, b.String())
			return b.String()
		}
		b.WriteByte(ch)
	}
	return b.String()
}
