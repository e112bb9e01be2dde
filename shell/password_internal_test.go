package shell

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestPasswordBudgetBounds: no more hashes run at once than the budget allows; a
// few more wait their turn, for a while; past the queue, an attempt is told at once
// that the store is busy, and no one waits for long.
func TestPasswordBudgetBounds(t *testing.T) {
	p := NewPasswords(PasswordBudget{Cost: bcrypt.MinCost, AtOnce: 1, Queue: 1, QueueWait: 200 * time.Millisecond})
	ctx := context.Background()
	release, err := p.turn(ctx) // the one hash that may run
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() {
		rel, err := p.turn(ctx) // waits in the queue
		if err == nil {
			rel()
		}
		queued <- err
	}()
	for len(p.waiting) < 2 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if _, err := p.turn(ctx); !errors.Is(err, errBusy) {
		t.Errorf("a third attempt with the queue full = %v, want busy", err)
	} else if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("the third attempt waited %v to be told the store is busy; it should not wait", d)
	}
	if err := <-queued; !errors.Is(err, errBusy) {
		t.Errorf("the queued attempt after its wait = %v, want busy", err)
	}
	release()
	rel, err := p.turn(ctx)
	if err != nil {
		t.Fatalf("a turn once the budget is free: %v", err)
	}
	rel()
	if _, err := p.Check(ctx, nil, "anything"); err != nil {
		t.Errorf("Check after the turns were given back: %v", err)
	}
}
