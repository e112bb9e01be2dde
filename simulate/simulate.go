// Package simulate runs scripted customers against a running store over real TCP, as
// people with telnet would: they browse, fill carts, check out and look at their
// orders, with a realistic mix of commands. It is the project's load generator and an
// end-to-end check: Run measures each command's latency and notes every order the
// store confirmed, and Verify then checks those orders and the stock against the
// store itself.
//
// It talks to the store only as a client; it imports no storage backend.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the Config fields left zero.
const (
	DefaultTimeout = 10 * time.Second
	DefaultGrace   = 5 * time.Second
)

// Config says whom to simulate, where and for how long.
type Config struct {
	Addr      string        // the store's customer address, e.g. "127.0.0.1:65432"
	Customers int           // customers shopping at once
	Duration  time.Duration // how long they shop
	Seed      int64         // customer n draws from a generator seeded with (Seed, n)
	// Prompt is the store's prompt, e.g. "OPEN store> "; if empty it is derived
	// from the greeting ("Welcome to OPEN store. …").
	Prompt string
	// Progress, if not nil, gets a live status line every second (elapsed time,
	// commands and checkouts per second, errors), rewritten in place with "\r":
	// for a terminal.
	Progress io.Writer
	// Think is the mean pause between one customer's commands; 0 sends the next
	// command as soon as the reply is in (a load test).
	Think time.Duration
	// Timeout is the longest wait for one reply or connection; DefaultTimeout if 0.
	Timeout time.Duration
	// Grace is how long commands in flight at the end of Duration may take to
	// finish before their connections are closed; DefaultGrace if 0.
	Grace time.Duration
}

// Run connects cfg.Customers customers to cfg.Addr and lets them shop until
// cfg.Duration has passed, then waits for the commands in flight (at most cfg.Grace),
// says goodbye, closes every connection and returns what happened. Failures of the
// store (an unexpected reply, a missing prompt, a timeout, a refused connection) are
// counted in the Report, not returned. Run returns an error for a bad Config;
// before any customer starts, it returns an error, and no Report, if no store
// answers at cfg.Addr (ErrNoStore) or the store has nothing for sale
// (ErrEmptyCatalog); and ctx's error, with the Report so far, if ctx ends first.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Addr == "" {
		return nil, errors.New("simulate: no address to connect to")
	}
	if cfg.Customers < 1 {
		return nil, fmt.Errorf("simulate: %d customers; need at least one", cfg.Customers)
	}
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("simulate: duration %v; need a positive one", cfg.Duration)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if err := preflight(ctx, cfg); err != nil {
		return nil, err
	}
	start := time.Now()
	s := &sim{cfg: cfg, ctx: ctx, start: start, end: start.Add(cfg.Duration), stop: start.Add(cfg.Duration + cfg.Grace)}
	var cancel context.CancelFunc
	// The hard stop: every connection still open is closed when it passes or ctx ends.
	s.hard, cancel = context.WithDeadline(ctx, s.stop)
	defer cancel()

	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if cfg.Progress != nil {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			s.showProgress(cfg.Progress, progressDone)
		}()
	}

	customers := make([]*customer, cfg.Customers)
	var wg sync.WaitGroup
	for i := range customers {
		customers[i] = newCustomer(s, i+1)
		wg.Add(1)
		go func(c *customer) {
			defer wg.Done()
			c.run()
		}(customers[i])
	}
	wg.Wait()
	close(progressDone)
	progressWG.Wait()

	r := s.report(time.Since(start), customers)
	if err := ctx.Err(); err != nil {
		r.Interrupted = true
		return r, err
	}
	return r, nil
}

// sim is the state one Run shares between its customers. The counters are atomic:
// the progress line reads them while customers write them.
type sim struct {
	cfg   Config
	ctx   context.Context // the caller's: when it ends, the run is abandoned
	hard  context.Context // ends at the hard stop (or with ctx): connections are closed
	start time.Time
	end   time.Time // no command starts after this
	stop  time.Time // Duration plus Grace: nothing waits beyond this

	stats         [numActions]commandCounters
	connected     atomic.Int64 // customers connected now
	connects      atomic.Int64 // connections made, reconnections included
	connectErrors atomic.Int64

	errMu      sync.Mutex
	errSamples []string // the first errors, at most maxErrorSamples
}

// shopping reports whether customers should start another command.
func (s *sim) shopping() bool {
	return s.ctx.Err() == nil && time.Now().Before(s.end)
}

// interrupted reports whether the caller gave up on the run; failures after that are
// of our making, not the store's, and are not counted.
func (s *sim) interrupted() bool { return s.ctx.Err() != nil }

func (s *sim) totals() (commands, checkouts, errs int64) {
	for i := range s.stats {
		commands += s.stats[i].count.Load()
		errs += s.stats[i].errors.Load()
	}
	return commands, s.stats[actCheckout].ok.Load(), errs + s.connectErrors.Load()
}

// Errors of a run that could not start, from Run.
var (
	ErrNoStore      = errors.New("no store answers")
	ErrEmptyCatalog = errors.New("the store has nothing for sale")
)

// preflight makes sure, before the customers start, that a store answers at
// cfg.Addr and that there is something to buy: against nothing, the customers would
// retry for the whole run and report an empty table; against an empty catalog they
// could only list it, and the run would prove nothing.
func preflight(ctx context.Context, cfg Config) error {
	now := time.Now()
	s := &sim{cfg: cfg, ctx: ctx, start: now, end: now.Add(cfg.Timeout), stop: now.Add(cfg.Timeout)}
	var cancel context.CancelFunc
	s.hard, cancel = context.WithDeadline(ctx, s.stop)
	defer cancel()
	c := newCustomer(s, 0)
	if err := c.connect(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("simulate: %w at %s (%v); start it first, with storify serve", ErrNoStore, cfg.Addr, err)
	}
	defer c.hangUp()
	lines, _, err := c.roundTrip("list")
	if err != nil {
		return fmt.Errorf("simulate: the store at %s did not answer list: %w", cfg.Addr, err)
	}
	if len(lines) == 1 && lines[0] == "The catalog is empty." {
		return fmt.Errorf("simulate: %w at %s: add products first (addproduct in its console, or storify exec addproduct)", ErrEmptyCatalog, cfg.Addr)
	}
	c.quit()
	return nil
}

// showProgress rewrites one status line on w every second until done.
func (s *sim) showProgress(w io.Writer, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prevCommands, prevCheckouts int64
	prevT := s.start
	for {
		select {
		case <-done:
			fmt.Fprintf(w, "\r%-78s\r", "")
			return
		case now := <-tick.C:
			commands, checkouts, errs := s.totals()
			secs := now.Sub(prevT).Seconds()
			fmt.Fprintf(w, "\r%5.0fs  %d connected  %.0f commands/s  %.0f checkouts/s  %d errors   ",
				now.Sub(s.start).Seconds(), s.connected.Load(), float64(commands-prevCommands)/secs,
				float64(checkouts-prevCheckouts)/secs, errs)
			prevCommands, prevCheckouts, prevT = commands, checkouts, now
		}
	}
}

// dial connects to the store, giving up at the timeout or the hard stop.
func (s *sim) dial() (net.Conn, error) {
	d := net.Dialer{Timeout: s.cfg.Timeout, Deadline: s.stop}
	return d.DialContext(s.hard, "tcp", s.cfg.Addr)
}
