package logging

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// DefaultMaxBytes is how many bytes of log lines a Writer holds for a slow reader
// when its config does not say.
const DefaultMaxBytes = 1 << 20

// WriterConfig sets a Writer's queue.
type WriterConfig struct {
	// MaxBytes caps the bytes waiting to be written; 0 means DefaultMaxBytes. The
	// Writer holds at most twice this: the queue, and the batch being written.
	MaxBytes int
	// Notice formats the line written where lines had to be dropped, given how
	// many; nil writes a plain line. It is called with the Writer's lock held and
	// must not write to the Writer.
	Notice func(dropped uint64) []byte
}

// Writer is an io.Writer for log lines that never waits for its output. Each Write
// (a slog handler makes one per record) queues a copy of the line, and one goroutine
// writes what is queued, in batches. When the queue is full the line is dropped and
// counted; once the output takes lines again, a notice says how many were lost at
// that point.
type Writer struct {
	out    io.Writer
	max    int
	notice func(uint64) []byte

	mu      sync.Mutex
	pending []byte // lines (and notices) waiting, in order
	lines   int    // lines in pending
	unsaid  uint64 // lines dropped since the last line queued, not yet in a notice
	closing bool   // Close was called: no more lines are taken
	abandon bool   // Close gave up waiting: the loop writes nothing more
	wake    chan struct{}
	exited  chan struct{}
	dropped atomic.Uint64
}

// NewWriter returns a Writer on out and starts its goroutine; Close stops it.
func NewWriter(out io.Writer, cfg WriterConfig) *Writer {
	w := &Writer{out: out, max: cfg.MaxBytes, notice: cfg.Notice, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	if w.max <= 0 {
		w.max = DefaultMaxBytes
	}
	if w.notice == nil {
		w.notice = plainNotice
	}
	go w.loop()
	return w
}

func plainNotice(n uint64) []byte {
	return fmt.Appendf(nil, "logging: %d log lines dropped: the log output was too slow\n", n)
}

// Write queues p, one whole line, and returns at once. It never fails: a line that
// does not fit is dropped and counted, as is every line written after Close.
func (w *Writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	if w.closing || len(w.pending)+len(p) > w.max {
		if !w.closing {
			w.unsaid++
		}
		w.mu.Unlock()
		w.dropped.Add(1)
		return len(p), nil
	}
	w.sayDroppedLocked()
	w.pending = append(w.pending, p...)
	w.lines++
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// sayDroppedLocked queues the notice for lines dropped since the last one queued,
// so that it stands where they would have been. It may take the queue past max by
// one notice.
func (w *Writer) sayDroppedLocked() {
	if w.unsaid > 0 {
		w.pending = append(w.pending, w.notice(w.unsaid)...)
		w.unsaid = 0
	}
}

// Dropped is how many lines were never written: dropped because the queue was full,
// lost to an output error, or left behind at Close.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// loop writes what is queued until Close, then what is left, unless Close gave up.
func (w *Writer) loop() {
	defer close(w.exited)
	var spare []byte
	for {
		w.mu.Lock()
		for len(w.pending) == 0 && w.unsaid == 0 && !w.closing {
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
		}
		if w.abandon {
			w.mu.Unlock() // Close counted what was left
			return
		}
		// Lines dropped while the output was stuck are reported now that it moves.
		w.sayDroppedLocked()
		batch, lines := w.pending, w.lines
		w.pending, w.lines = spare[:0], 0
		done := w.closing && len(batch) == 0
		w.mu.Unlock()
		if done {
			return
		}
		if n, err := w.out.Write(batch); err != nil || n < len(batch) {
			w.mu.Lock()
			w.unsaid += uint64(lines)
			w.mu.Unlock()
			w.dropped.Add(uint64(lines))
		}
		spare = batch
	}
}

// Close stops taking lines and waits until those queued are written, or until ctx
// ends: then it gives them up, so that a stuck output never holds up exit, and says
// how many bytes it left.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.exited:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		w.abandon = true
		n, lines := len(w.pending), w.lines
		w.pending, w.lines = nil, 0
		w.mu.Unlock()
		w.dropped.Add(uint64(lines))
		return fmt.Errorf("logging: %d log lines (%d bytes) not written: %w", lines, n, ctx.Err())
	}
}
