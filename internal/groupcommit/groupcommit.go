// Package groupcommit runs calls that callers make concurrently in batches, on one
// goroutine, so that a store can commit many checkouts with one durable write.
// Both storage backends use it; what a batch does is theirs.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrClosed answers a call made after Close.
var ErrClosed = errors.New("the store is closed")

// Result is one call's outcome.
type Result[T any] struct {
	Value T
	Err   error
	// Again, set by run, puts the call back at the head of the queue, for the next
	// batch, instead of answering it: a call that a batch took on (TopUp) and then
	// found it could not run with the others.
	Again bool
}

// Queue takes calls and runs them in batches of at most max, in the order queued.
type Queue[In, Out any] struct {
	max     int
	run     func(batch []In) []Result[Out]
	observe func(n int) // told the size of each batch run; may be nil

	mu     sync.Mutex
	queue  []*call[In, Out]
	closed bool          // no more calls are taken
	wake   chan struct{} // a token tells the loop the queue may have work
	exited chan struct{} // closed when the loop has answered its last call

	batches atomic.Int64

	// running is the batch being run, with the calls TopUp added to it; only the
	// loop's goroutine (and run, which it calls) touches it.
	running []*call[In, Out]
}

// The states of a queued call. The loop and a caller whose context ends race for
// the first change from queued; whoever wins decides whether it runs.
const (
	queued    int32 = iota
	started         // the loop took it: it runs and its caller is answered
	abandoned       // its caller's context ended first: it never runs
)

type call[In, Out any] struct {
	ctx   context.Context
	in    In
	state atomic.Int32
	done  chan Result[Out] // buffered, so that the loop never waits on a caller
}

// Start returns a queue whose goroutine runs batches with run. run gets the inputs
// of the calls whose callers still wait, and returns their results in the same
// order; every result is final.
func Start[In, Out any](max int, run func(batch []In) []Result[Out]) *Queue[In, Out] {
	return StartObserved(max, run, nil)
}

// StartObserved is Start with observe, if not nil, told the number of calls of each
// batch run, after run returns, on the queue's goroutine (so it must not wait).
func StartObserved[In, Out any](max int, run func(batch []In) []Result[Out], observe func(n int)) *Queue[In, Out] {
	q := &Queue[In, Out]{max: max, run: run, observe: observe, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go q.loop()
	return q
}

// Do queues in and waits for its result. If ctx ends while the call waits in the
// queue, it is dropped and ctx.Err() is returned; once a batch has started it, it
// runs to the end and its own result is returned, since it may have taken effect.
func (q *Queue[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan Result[Out], 1)}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return zero, ErrClosed
	}
	q.queue = append(q.queue, c)
	q.mu.Unlock()
	q.signal()
	select {
	case r := <-c.done:
		return r.Value, r.Err
	case <-ctx.Done():
		if c.state.CompareAndSwap(queued, abandoned) {
			return zero, ctx.Err()
		}
		r := <-c.done
		return r.Value, r.Err
	}
}

// Close stops taking calls and waits until those queued are answered.
func (q *Queue[In, Out]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
	<-q.exited
}

// Batches is the number of batches run so far.
func (q *Queue[In, Out]) Batches() int64 { return q.batches.Load() }

// Len is the number of calls waiting for a batch.
func (q *Queue[In, Out]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// Closed reports whether Close has been called.
func (q *Queue[In, Out]) Closed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// signal wakes the loop. The token stays in the channel while the loop is busy, so
// a call queued meanwhile is never missed.
func (q *Queue[In, Out]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes up to max calls from the head of the queue. It reports done when the
// queue is empty and the queue is closed.
func (q *Queue[In, Out]) take() (batch []*call[In, Out], done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.queue), q.max)
	batch = q.queue[:n:n]
	if n == len(q.queue) {
		q.queue = nil
	} else {
		q.queue = q.queue[n:]
	}
	return batch, n == 0 && q.closed
}

func (q *Queue[In, Out]) loop() {
	defer close(q.exited)
	for {
		batch, done := q.take()
		if done {
			return
		}
		if len(batch) == 0 {
			<-q.wake
			continue
		}
		q.runBatch(batch)
	}
}

// TopUp adds to the batch being run the calls queued since it began for which fits
// is true, as many as the batch has room for (max), in the order queued, and returns
// their inputs; the others stay queued, in order. Only run may call it, on the
// queue's goroutine; it must then return results for the batch it was given and,
// after them, for every input TopUp returned, in order. A store calls it once its
// transaction holds what those calls need, typically after waiting for another
// instance's transaction to let go of a row, so that what queued meanwhile shares
// this commit rather than waiting for the next.
func (q *Queue[In, Out]) TopUp(fits func(In) bool) []In {
	room := q.max - len(q.running)
	if room <= 0 {
		return nil
	}
	var taken []*call[In, Out]
	q.mu.Lock()
	kept := q.queue[:0]
	for _, c := range q.queue {
		if len(taken) < room && fits(c.in) {
			taken = append(taken, c)
		} else {
			kept = append(kept, c)
		}
	}
	clear(q.queue[len(kept):])
	q.queue = kept
	q.mu.Unlock()
	ins := make([]In, 0, len(taken))
	for _, c := range q.claim(taken) {
		q.running = append(q.running, c)
		ins = append(ins, c.in)
	}
	return ins
}

// claim takes the calls whose callers still wait, answering the others with their
// context's error.
func (q *Queue[In, Out]) claim(batch []*call[In, Out]) []*call[In, Out] {
	calls := batch[:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			if c.state.CompareAndSwap(queued, abandoned) {
				c.done <- Result[Out]{Err: err}
			}
			continue
		}
		if c.state.CompareAndSwap(queued, started) {
			calls = append(calls, c)
		}
	}
	return calls
}

// runBatch claims the calls whose callers still wait, runs them, and answers each.
func (q *Queue[In, Out]) runBatch(batch []*call[In, Out]) {
	calls := q.claim(batch)
	if len(calls) == 0 {
		return
	}
	ins := make([]In, len(calls))
	for i, c := range calls {
		ins[i] = c.in
	}
	q.running = calls
	results := q.run(ins)
	calls, q.running = q.running, nil
	q.batches.Add(1)
	if q.observe != nil {
		n := 0
		for _, r := range results[:len(calls)] {
			if !r.Again {
				n++
			}
		}
		q.observe(n)
	}
	var again []*call[In, Out]
	for i, c := range calls {
		if results[i].Again {
			c.state.Store(queued)
			again = append(again, c)
			continue
		}
		c.done <- results[i]
	}
	if len(again) > 0 {
		q.mu.Lock()
		q.queue = append(again, q.queue...)
		q.mu.Unlock()
		q.signal()
	}
}
