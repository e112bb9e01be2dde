package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify/internal/groupcommit"
)

// TestBatches: calls made while a batch runs are run together in the next one, in
// order, and each caller gets its own result.
func TestBatches(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	q := groupcommit.Start(3, func(ins []int) []groupcommit.Result[int] {
		mu.Lock()
		sizes = append(sizes, len(ins))
		mu.Unlock()
		<-release
		out := make([]groupcommit.Result[int], len(ins))
		for i, in := range ins {
			if in < 0 {
				out[i].Err = errors.New("negative")
			} else {
				out[i].Value = in * 10
			}
		}
		return out
	})
	var wg sync.WaitGroup
	got := make([]int, 7)
	errs := make([]error, 7)
	do := func(i int) {
		defer wg.Done()
		in := i
		if i == 4 {
			in = -1
		}
		got[i], errs[i] = q.Do(context.Background(), in)
	}
	wg.Add(1)
	go do(0)
	started := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(sizes)
	}
	for started() == 0 { // the first batch has started, with call 0 alone
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < 7; i++ {
		wg.Add(1)
		go do(i)
	}
	for q.Len() < 6 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	q.Close()
	for i := range 7 {
		if i == 4 {
			if errs[i] == nil {
				t.Errorf("call 4 got no error")
			}
			continue
		}
		if errs[i] != nil || got[i] != i*10 {
			t.Errorf("call %d = %d, %v", i, got[i], errs[i])
		}
	}
	if len(sizes) != 3 || sizes[0] != 1 || sizes[1] != 3 || sizes[2] != 3 || q.Batches() != 3 {
		t.Errorf("batch sizes %v, %d batches; want [1 3 3]", sizes, q.Batches())
	}
	if _, err := q.Do(context.Background(), 1); !errors.Is(err, groupcommit.ErrClosed) {
		t.Errorf("Do after Close: %v", err)
	}
}

// TestAbandoned: a caller whose context ends while queued gets ctx.Err() and its
// call never runs.
func TestAbandoned(t *testing.T) {
	release := make(chan struct{})
	ran := make(chan int, 10)
	q := groupcommit.Start(10, func(ins []int) []groupcommit.Result[int] {
		for _, in := range ins {
			ran <- in
		}
		<-release
		return make([]groupcommit.Result[int], len(ins))
	})
	defer q.Close()
	go q.Do(context.Background(), 1)
	<-ran
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := q.Do(ctx, 2); done <- err }()
	for q.Len() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned call: %v", err)
	}
	close(release)
	q.Close()
	select {
	case in := <-ran:
		t.Errorf("the abandoned call ran (%d)", in)
	default:
	}
}

// TestObserve: the observer is told the size of every batch run, and a call whose
// caller gave up before its batch started is not counted in it.
func TestObserve(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	var mu sync.Mutex
	var observed []int
	q := groupcommit.StartObserved(10, func(ins []int) []groupcommit.Result[int] {
		started <- struct{}{}
		<-release
		return make([]groupcommit.Result[int], len(ins))
	}, func(n int) {
		mu.Lock()
		observed = append(observed, n)
		mu.Unlock()
	})
	var wg sync.WaitGroup
	do := func(ctx context.Context, i int) {
		wg.Add(1)
		go func() { defer wg.Done(); q.Do(ctx, i) }()
	}
	do(context.Background(), 0)
	<-started // the first batch holds call 0 alone
	// Queue four more, one of whose callers gives up before they run.
	ctx, cancel := context.WithCancel(context.Background())
	for i := 1; i <= 3; i++ {
		do(context.Background(), i)
	}
	do(ctx, 4)
	for q.Len() < 4 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(release)
	wg.Wait()
	q.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 2 || observed[0] != 1 || observed[1] != 3 {
		t.Errorf("observed batch sizes %v, want [1 3]", observed)
	}
}

// TestTopUp: a batch that tops itself up takes the calls queued since it began that
// fit, as many as it has room for, and answers them with its own; the others wait
// for the next batch, in order.
func TestTopUp(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	var q *groupcommit.Queue[int, int]
	var mu sync.Mutex
	var batches [][]int
	q = groupcommit.Start(4, func(ins []int) []groupcommit.Result[int] {
		started <- struct{}{}
		<-release
		if ins[0] == 0 {
			ins = append(ins, q.TopUp(func(in int) bool { return in%2 == 0 })...)
		}
		mu.Lock()
		batches = append(batches, ins)
		mu.Unlock()
		out := make([]groupcommit.Result[int], len(ins))
		for i, in := range ins {
			out[i].Value = in * 10
		}
		return out
	})
	var wg sync.WaitGroup
	got := make([]int, 9)
	do := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if got[i], err = q.Do(context.Background(), i); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}()
	}
	do(0)
	<-started // the first batch holds call 0 alone
	for i := 1; i <= 8; i++ {
		do(i)
		for q.Len() < i { // queued in this order
			time.Sleep(time.Millisecond)
		}
	}
	close(release)
	wg.Wait()
	q.Close()
	for i, v := range got {
		if v != i*10 {
			t.Errorf("call %d = %d, want %d", i, v, i*10)
		}
	}
	want := [][]int{{0, 2, 4, 6}, {1, 3, 5, 7}, {8}}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", batches, want)
	}
}

// TestAgain: a call whose result is Again goes back to the head of the queue, is run
// by the next batch, before the calls queued after it, and is answered once; the
// batch that gave it back does not count it.
func TestAgain(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	var observed []int
	gaveBack := false
	q := groupcommit.StartObserved(10, func(ins []int) []groupcommit.Result[int] {
		started <- struct{}{}
		<-release
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, ins)
		out := make([]groupcommit.Result[int], len(ins))
		for i, in := range ins {
			out[i].Value = in * 10
			if in == 1 && !gaveBack {
				out[i], gaveBack = groupcommit.Result[int]{Again: true}, true
			}
		}
		return out
	}, func(n int) {
		mu.Lock()
		observed = append(observed, n)
		mu.Unlock()
	})
	var wg sync.WaitGroup
	got := make([]int, 4)
	do := func(i int) {
		wg.Go(func() {
			var err error
			if got[i], err = q.Do(context.Background(), i); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	do(0)
	<-started
	do(1)
	waitLen(q, 1)
	do(2)
	waitLen(q, 2)
	release <- struct{}{} // the first batch: 0
	<-started
	release <- struct{}{} // 1 and 2; 1 is given back
	<-started
	do(3)
	waitLen(q, 1)
	close(release) // 1 again, then 3
	wg.Wait()
	q.Close()
	for i, v := range got {
		if v != i*10 {
			t.Errorf("call %d = %d, want %d", i, v, i*10)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := [][]int{{0}, {1, 2}, {1}, {3}}; fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches %v, want %v", batches, want)
	}
	if want := []int{1, 1, 1, 1}; fmt.Sprint(observed) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", observed, want)
	}
}

// waitLen waits until n calls are queued.
func waitLen(q *groupcommit.Queue[int, int], n int) {
	for q.Len() < n {
		time.Sleep(time.Millisecond)
	}
}
