package main

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
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

// stuckStore is a store whose Close waits on a database that does not answer.
type stuckStore struct {
	storify.Store
	release chan struct{}
}

func (s *stuckStore) Close() error { <-s.release; return nil }

// Shutdown does not wait on a store whose database does not answer: closing it is
// abandoned after a second, and the error says so.
func TestCloseDoesNotWaitOnAStuckStore(t *testing.T) {
	s := &stuckStore{release: make(chan struct{})}
	defer close(s.release)
	m := NewMain()
	m.Store = s
	done := make(chan error, 1)
	go func() { done <- m.Close() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "abandoned") {
			t.Errorf("Close with a stuck store: %v, want an error saying it was abandoned", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits on a stuck store after 10 s")
	}
}
