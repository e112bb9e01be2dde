package groupcommit_test

import (
	"context"
	"errors"
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
