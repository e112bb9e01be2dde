package logging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify/internal/logging"
)

// stuckOutput is a log reader that stops reading: its first Write says so on
// entered, and every Write waits until release is closed.
type stuckOutput struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	got     bytes.Buffer
}

func newStuckOutput() *stuckOutput {
	return &stuckOutput{entered: make(chan struct{}), release: make(chan struct{})}
}

func (s *stuckOutput) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.Write(p)
}

func (s *stuckOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.String()
}

// within fails the test if f has not returned after a generous deadline: it detects
// a hang, it does not measure speed.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return: it waits for the log output", what)
	}
}

// TestWriteNeverWaitsForAStuckOutput: with an output that never takes a byte, every
// Write still returns, the lines past the queue are counted, and Close gives up at
// its deadline instead of hanging.
func TestWriteNeverWaitsForAStuckOutput(t *testing.T) {
	out := newStuckOutput()
	defer close(out.release)
	w := logging.NewWriter(out, logging.WriterConfig{MaxBytes: 4096})
	line := []byte("level=INFO msg=\"customer connected\" session=1 addr=127.0.0.1:4242\n")
	w.Write(line)
	<-out.entered // the writer's goroutine is stuck on the first line: what follows queues
	within(t, "Write", func() {
		for range 10000 - 1 {
			if n, err := w.Write(line); n != len(line) || err != nil {
				t.Errorf("Write = %d, %v; want %d, nil", n, err, len(line))
				return
			}
		}
	})
	if d := w.Dropped(); d < 10000-2*4096/uint64(len(line)) || d >= 10000 {
		t.Errorf("Dropped = %d of 10000 lines into a 4 KiB queue on a stuck output", d)
	}
	before := w.Dropped()
	within(t, "Close", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close on a stuck output = %v, want a deadline error", err)
		}
	})
	if after := w.Dropped(); after <= before {
		t.Errorf("Dropped = %d after Close gave up on the queue, as before (%d)", after, before)
	}
}

// TestDroppedLinesAreReported: once the output takes lines again, one line says how
// many were dropped, where they would have been.
func TestDroppedLinesAreReported(t *testing.T) {
	out := newStuckOutput()
	w := logging.NewWriter(out, logging.WriterConfig{MaxBytes: 100})
	w.Write([]byte("first\n"))
	<-out.entered // the writer's goroutine holds "first" and waits on the output
	var want strings.Builder
	want.WriteString("first\n")
	for i := range 30 {
		line := fmt.Sprintf("line %03d\n", i) // 9 bytes: 11 fit in 100
		w.Write([]byte(line))
		if i < 11 {
			want.WriteString(line)
		}
	}
	if d := w.Dropped(); d != 19 {
		t.Errorf("Dropped = %d, want 19", d)
	}
	close(out.release)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "dropped"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no drop notice once the output moved again:\n%s", out)
		}
	}
	w.Write([]byte("after\n"))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want.WriteString("logging: 19 log lines dropped: the log output was too slow\nafter\n")
	if got := out.String(); got != want.String() {
		t.Errorf("output:\n%s\nwant:\n%s", got, want.String())
	}
}

// TestCloseWritesEverything: on an output that keeps up, every line is written, in
// order, and a caller may reuse its buffer as soon as Write returns.
func TestCloseWritesEverything(t *testing.T) {
	out := newStuckOutput()
	close(out.release)
	w := logging.NewWriter(out, logging.WriterConfig{})
	var want strings.Builder
	buf := make([]byte, 0, 32)
	for i := range 1000 {
		buf = fmt.Appendf(buf[:0], "line %d\n", i)
		w.Write(buf)
		want.Write(buf)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want.String() {
		t.Errorf("output is not the 1000 lines in order:\n%s", got)
	}
	if d := w.Dropped(); d != 0 {
		t.Errorf("Dropped = %d, want 0", d)
	}
	w.Write([]byte("after close\n"))
	if d := w.Dropped(); d != 1 {
		t.Errorf("Dropped after a Write after Close = %d, want 1", d)
	}
}

type failingOutput struct{}

func (failingOutput) Write(p []byte) (int, error) { return 0, errors.New("broken pipe") }

// TestOutputErrorsAreCounted: lines the output refuses count as dropped.
func TestOutputErrorsAreCounted(t *testing.T) {
	w := logging.NewWriter(failingOutput{}, logging.WriterConfig{})
	for range 3 {
		w.Write([]byte("lost\n"))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := w.Dropped(); d != 3 {
		t.Errorf("Dropped = %d, want 3", d)
	}
}
