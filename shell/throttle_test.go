package shell_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify/shell"
)

var ctx = context.Background()

// reserve is th.Reserve, whose records in memory cannot fail.
func reserve(th *shell.LoginThrottle, name, addr string) (*shell.Attempt, time.Duration) {
	at, wait, err := th.Reserve(ctx, name, addr)
	if err != nil {
		panic(err)
	}
	return at, wait
}

// check is at.Check, whose records in memory cannot fail.
func check(at *shell.Attempt) (time.Duration, bool) {
	wait, ok, err := at.Check(ctx)
	if err != nil {
		panic(err)
	}
	return wait, ok
}

func fakeClock(th *shell.LoginThrottle) *time.Time {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	th.Now = func() time.Time { return now }
	return &now
}

// However many attempts arrive at once, at most PerName are granted for one name,
// and the pause that follows is for that name only.
func TestThrottleReservesBeforeThePassword(t *testing.T) {
	th := shell.NewLoginThrottle()
	now := fakeClock(th)
	var mu sync.Mutex
	var granted []*shell.Attempt
	var wg sync.WaitGroup
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if at, _ := reserve(th, "bob", "10.0.0.1"); at != nil {
				mu.Lock()
				granted = append(granted, at)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(granted) != 5 {
		t.Fatalf("%d of 60 parallel attempts granted, want 5", len(granted))
	}
	for _, at := range granted {
		if _, ok := check(at); !ok {
			t.Fatalf("a reserved attempt was refused at its check")
		}
		at.Fail(ctx)
	}
	at, wait := reserve(th, "bob", "10.0.0.2")
	if at != nil || wait != 30*time.Second {
		t.Errorf("after 5 failures: attempt %v, wait %v; want a 30s pause", at, wait)
	}
	// Refusals escalate nothing: many of them later, the pause is still 30s.
	for range 100 {
		reserve(th, "bob", "10.0.0.1")
	}
	*now = now.Add(31 * time.Second)
	if at, _ := reserve(th, "bob", "10.0.0.1"); at == nil {
		t.Errorf("refused attempts lengthened the pause")
	} else {
		at.Fail(ctx)
	}
	if _, wait := reserve(th, "bob", "10.0.0.1"); wait != time.Minute {
		t.Errorf("after a sixth failure the wait is %v, want 1m", wait)
	}
	if at, _ := reserve(th, "alice", "10.0.0.1"); at == nil {
		t.Errorf("alice, behind the same address, is kept out by failures on bob")
	}
}

// Pauses double per failure but never pass MaxPause.
func TestThrottlePauseIsCapped(t *testing.T) {
	th := shell.NewLoginThrottle()
	now := fakeClock(th)
	var last time.Duration
	for range 30 {
		at, wait := reserve(th, "bob", "10.0.0.1")
		if at == nil {
			*now = now.Add(wait)
			last = wait
			at, _ = reserve(th, "bob", "10.0.0.1")
		}
		at.Fail(ctx)
	}
	if last != th.MaxPause {
		t.Errorf("the pause after 30 failures is %v, want the cap %v", last, th.MaxPause)
	}
}

// An address that fails across many names is held to the names it knows; a name
// that logged in from it before still gets in, and other addresses are untouched.
func TestThrottleAgainstSpraying(t *testing.T) {
	th := shell.NewLoginThrottle()
	now := fakeClock(th)
	at, _ := reserve(th, "alice", "10.0.0.1")
	at.Succeed(ctx)
	for i := range 20 {
		at, _ := reserve(th, fmt.Sprintf("user%d", i), "10.0.0.1")
		if at == nil {
			t.Fatalf("name %d refused before the address limit", i)
		}
		if _, ok := check(at); !ok {
			t.Fatalf("name %d refused at its check before the address limit", i)
		}
		at.Fail(ctx)
	}
	if at, wait := reserve(th, "carol", "10.0.0.1"); at != nil || wait != 30*time.Second {
		t.Errorf("a 21st name from a spraying address: attempt %v, wait %v; want a 30s pause", at, wait)
	}
	if at, _ := reserve(th, "alice", "10.0.0.1"); at == nil {
		t.Errorf("alice, known at the address, is kept out by the spraying")
	} else {
		at.Succeed(ctx)
	}
	if at, _ := reserve(th, "user3", "10.0.0.1"); at == nil {
		t.Errorf("a name already tried is held by the per-name rule only")
	} else {
		at.Release(ctx)
	}
	if at, _ := reserve(th, "carol", "10.0.0.2"); at == nil {
		t.Errorf("another address is held by the first one's spraying")
	} else {
		at.Release(ctx)
	}
	*now = now.Add(30 * time.Second)
	if at, _ := reserve(th, "carol", "10.0.0.1"); at == nil {
		t.Errorf("the address is still held after its pause")
	} else {
		at.Release(ctx)
	}
}

// Checks in flight on new names count against the address limit at the moment
// of checking, so parallel sprays cannot pass it; open password prompts do not.
func TestThrottleAddressChecksAreReserved(t *testing.T) {
	th := shell.NewLoginThrottle()
	fakeClock(th)
	var ats []*shell.Attempt
	for i := range 50 {
		at, _ := reserve(th, fmt.Sprintf("user%d", i), "10.0.0.1")
		if at == nil {
			t.Fatalf("prompt %d refused: open prompts must not count", i)
		}
		ats = append(ats, at)
	}
	checked := 0
	for _, at := range ats {
		if _, ok := check(at); ok {
			checked++
			defer at.Fail(ctx)
		}
	}
	if checked != th.PerAddr {
		t.Errorf("%d checks granted at once on new names from one address, want %d", checked, th.PerAddr)
	}
}

// Password prompts left open hold a name's places for PromptHold only: they cannot
// keep the name's owner out for long, and once lapsed, a password typed into them
// is checked only if a place is free, so the limit still holds.
func TestThrottleOpenPromptsLapse(t *testing.T) {
	th := shell.NewLoginThrottle()
	now := fakeClock(th)
	var idle []*shell.Attempt
	for range 6 {
		if at, _ := reserve(th, "alice", "10.0.0.1"); at != nil {
			idle = append(idle, at)
		}
	}
	if len(idle) != 5 {
		t.Fatalf("%d prompts open for one name, want 5", len(idle))
	}
	*now = now.Add(th.PromptHold)
	owner, _ := reserve(th, "alice", "10.0.0.2")
	if owner == nil {
		t.Fatalf("idle prompts keep alice out after %v", th.PromptHold)
	}
	if _, ok := check(owner); !ok {
		t.Fatalf("alice's check refused")
	}
	owner.Succeed(ctx)
	checked := 0
	for _, at := range idle {
		if _, ok := check(at); ok {
			checked++
			defer at.Fail(ctx)
		}
	}
	if checked != 5 {
		t.Errorf("%d lapsed prompts checked, want 5 (the places free)", checked)
	}
	if at, _ := reserve(th, "alice", "10.0.0.1"); at != nil {
		t.Errorf("a prompt granted while 5 checks are in flight")
	}
}
