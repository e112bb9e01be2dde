package shell

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/storify/storify"
	"golang.org/x/crypto/bcrypt"
)

// Password rules. bcrypt reads at most 72 bytes, so a longer password is refused,
// at register and at login alike, rather than silently cut: no two different
// passwords open one account.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// PasswordReader is a Term that can read a line without showing it. A Term without
// it reads passwords as ordinary lines (a pipe or a test has no echo to hide).
type PasswordReader interface {
	// ReadPassword shows prompt and reads one line with echo off.
	ReadPassword(prompt string) (string, error)
}

// errBusy is what a hash that cannot get a turn soon gets.
var errBusy = storify.Errorf(storify.ECONFLICT, "the store is busy right now; please try again in a moment")

// Passwords hashes and checks passwords with bcrypt within a CPU budget: at most
// a few hashes run at once, a short queue waits for a turn, and past it a customer
// is told the store is busy instead of everyone's commands waiting behind hashing.
// One Passwords is shared by every session of a process.
type Passwords struct {
	cost    int
	dummy   []byte        // a hash of nothing anyone types: unknown names are checked against it
	running chan struct{} // one token per hash running
	waiting chan struct{} // one token per hash running or queued
	maxWait time.Duration
}

// PasswordBudget sizes a Passwords.
type PasswordBudget struct {
	Cost      int           // bcrypt cost; 0 means bcrypt.DefaultCost
	AtOnce    int           // hashes running at once; 0 means half the CPUs, at least 1
	Queue     int           // hashes waiting for a turn; 0 means 4 per AtOnce
	QueueWait time.Duration // longest wait for a turn; 0 means 2s
}

// NewPasswords returns a Passwords with the given budget. It hashes once at
// once, to build the dummy hash that unknown names are checked against: an
// unknown name then costs exactly one comparison, as a known one does, from the
// first attempt on.
func NewPasswords(b PasswordBudget) *Passwords {
	if b.Cost == 0 {
		b.Cost = bcrypt.DefaultCost
	}
	if b.AtOnce <= 0 {
		b.AtOnce = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if b.Queue <= 0 {
		b.Queue = 4 * b.AtOnce
	}
	if b.QueueWait <= 0 {
		b.QueueWait = 2 * time.Second
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password anyone types"), b.Cost)
	if err != nil {
		panic("shell: bcrypt: " + err.Error()) // only for a cost out of range
	}
	return &Passwords{
		cost: b.Cost, dummy: dummy, maxWait: b.QueueWait,
		running: make(chan struct{}, b.AtOnce), waiting: make(chan struct{}, b.AtOnce+b.Queue),
	}
}

// turn waits for a turn to hash; errBusy if the queue is full or the wait too long.
func (p *Passwords) turn(ctx context.Context) (release func(), err error) {
	select {
	case p.waiting <- struct{}{}:
	default:
		return nil, errBusy
	}
	timer := time.NewTimer(p.maxWait)
	defer timer.Stop()
	select {
	case p.running <- struct{}{}:
		return func() { <-p.running; <-p.waiting }, nil
	case <-timer.C:
		<-p.waiting
		return nil, errBusy
	case <-ctx.Done():
		<-p.waiting
		return nil, ctx.Err()
	}
}

// Hash checks pw against the password rules and hashes it.
func (p *Passwords) Hash(ctx context.Context, pw string) ([]byte, error) {
	if err := checkPasswordRules(pw); err != nil {
		return nil, err
	}
	release, err := p.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return bcrypt.GenerateFromPassword([]byte(pw), p.cost)
}

// Check reports whether pw matches hash. With a nil hash (no such account) it
// compares with the dummy hash, so that the time taken does not tell whether a
// name exists. errBusy when no turn comes soon.
func (p *Passwords) Check(ctx context.Context, hash []byte, pw string) (bool, error) {
	release, err := p.turn(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if hash == nil || storify.Locked(hash) {
		// No account, or a locked one (the manager's lock): the same work as a
		// wrong password, so the time taken tells nothing.
		bcrypt.CompareHashAndPassword(p.dummy, []byte(pw))
		return false, nil
	}
	hash = bytes.TrimPrefix(hash, []byte(storify.OneTimePrefix))
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil, nil
}

var shared struct {
	sync.Mutex
	byCost map[int]*Passwords
}

// sharedPasswords returns the process's Passwords of a cost (0: the default), made
// with the default budget on first use: sessions configured without one still
// share one budget and one dummy hash.
func sharedPasswords(cost int) *Passwords {
	shared.Lock()
	defer shared.Unlock()
	if p := shared.byCost[cost]; p != nil {
		return p
	}
	if shared.byCost == nil {
		shared.byCost = map[int]*Passwords{}
	}
	p := NewPasswords(PasswordBudget{Cost: cost})
	shared.byCost[cost] = p
	return p
}

func checkPasswordRules(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return storify.Errorf(storify.EINVALID, "a password needs at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return tooLong()
	}
	return nil
}

func tooLong() error {
	return storify.Errorf(storify.EINVALID, "a password may have at most %d bytes", MaxPasswordLen)
}
