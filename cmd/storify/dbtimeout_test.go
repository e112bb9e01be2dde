package main

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Start-up against a database host that accepts connections and never answers (a
// partition) fails within --db-timeout, with the exit status that says so, instead
// of hanging.
func TestStartWithoutDatabaseFailsWithinBudget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})

	status := make(chan int, 1)
	start := time.Now()
	go func() {
		status <- run([]string{"serve", "--db", "postgres://storify@" + ln.Addr().String() + "/storify?sslmode=disable",
			"--db-timeout", "500ms", "--listen", "127.0.0.1:0"})
	}()
	select {
	case got := <-status:
		t.Logf("storify serve exited %d after %v", got, time.Since(start).Round(time.Millisecond))
		if got != exitUnavailable {
			t.Errorf("storify serve against a database that never answers exited %d, want %d", got, exitUnavailable)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("storify serve against a database that never answers was still starting after 10 s; --db-timeout is 500ms")
	}
}
