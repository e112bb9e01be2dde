package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// SuppressedMessage is the message of the summary a RateLimiter logs for the
// records it held back.
const SuppressedMessage = "similar lines suppressed"

// RateLimiter is a slog.Handler that passes at most Burst records with the same
// level and message in each Interval, which starts at the first of them; the rest
// are counted, and at the interval's end one summary record at the same level says
// how many were suppressed (attributes line, count and window). A flood of refused
// connections or failed logins thus costs a few lines a second, whatever its size.
type RateLimiter struct {
	next  slog.Handler // this handler's records go here, with their attributes
	state *limits      // shared with the handlers WithAttrs and WithGroup derive
}

type limits struct {
	root     slog.Handler // summaries go here, without anyone's attributes
	burst    int
	interval time.Duration

	mu      sync.Mutex
	windows map[limitKey]*window
}

type limitKey struct {
	level slog.Level
	msg   string
}

// window counts one key's records since start.
type window struct {
	start      time.Time
	n          int
	suppressed uint64
	timer      *time.Timer // set at the first suppressed record: it logs the summary
}

// sweepAt is how many keys are kept before windows that ended quietly are removed.
const sweepAt = 1024

// NewRateLimiter returns a handler that passes records to next, at most burst of
// each level and message per interval. A burst below 1 counts as 1.
func NewRateLimiter(next slog.Handler, burst int, interval time.Duration) *RateLimiter {
	return &RateLimiter{next: next, state: &limits{root: next, burst: max(burst, 1), interval: interval, windows: map[limitKey]*window{}}}
}

// Enabled reports whether next handles records at level.
func (l *RateLimiter) Enabled(ctx context.Context, level slog.Level) bool {
	return l.next.Enabled(ctx, level)
}

// WithAttrs returns a RateLimiter on next.WithAttrs that shares l's counts.
func (l *RateLimiter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &RateLimiter{next: l.next.WithAttrs(attrs), state: l.state}
}

// WithGroup returns a RateLimiter on next.WithGroup that shares l's counts.
func (l *RateLimiter) WithGroup(name string) slog.Handler {
	return &RateLimiter{next: l.next.WithGroup(name), state: l.state}
}

// Handle passes r on, or counts it if its key has used up its burst.
func (l *RateLimiter) Handle(ctx context.Context, r slog.Record) error {
	s := l.state
	k := limitKey{r.Level, r.Message}
	now := time.Now()
	s.mu.Lock()
	w := s.windows[k]
	var ended uint64
	if w != nil && now.Sub(w.start) >= s.interval {
		// The window is over but its timer has not run yet: summarise it here.
		if w.timer != nil {
			w.timer.Stop()
		}
		ended = w.suppressed
		delete(s.windows, k)
		w = nil
	}
	if w == nil {
		if len(s.windows) >= sweepAt {
			s.sweepLocked(now)
		}
		w = &window{start: now}
		s.windows[k] = w
	}
	w.n++
	pass := w.n <= s.burst
	if !pass {
		w.suppressed++
		if w.timer == nil {
			w.timer = time.AfterFunc(w.start.Add(s.interval).Sub(now), func() { s.expire(k, w) })
		}
	}
	s.mu.Unlock()
	if ended > 0 {
		s.summarise(k, ended)
	}
	if !pass {
		return nil
	}
	return l.next.Handle(ctx, r)
}

// Flush logs the summary of every window that has suppressed records, and starts
// their keys afresh. Call it before closing the output.
func (l *RateLimiter) Flush() {
	s := l.state
	s.mu.Lock()
	var keys []limitKey
	var counts []uint64
	for k, w := range s.windows {
		if w.suppressed > 0 {
			w.timer.Stop()
			keys, counts = append(keys, k), append(counts, w.suppressed)
			delete(s.windows, k)
		}
	}
	s.mu.Unlock()
	for i, k := range keys {
		s.summarise(k, counts[i])
	}
}

// expire ends w when its interval is over, unless Handle or Flush ended it first.
func (s *limits) expire(k limitKey, w *window) {
	s.mu.Lock()
	if s.windows[k] != w {
		s.mu.Unlock()
		return
	}
	delete(s.windows, k)
	n := w.suppressed
	s.mu.Unlock()
	s.summarise(k, n)
}

// sweepLocked forgets windows that are over and suppressed nothing (the others
// have a timer that removes them), so that many distinct messages cannot grow the
// map for good.
func (s *limits) sweepLocked(now time.Time) {
	for k, w := range s.windows {
		if w.suppressed == 0 && now.Sub(w.start) >= s.interval {
			delete(s.windows, k)
		}
	}
}

func (s *limits) summarise(k limitKey, n uint64) {
	r := slog.NewRecord(time.Now(), k.level, SuppressedMessage, 0)
	r.AddAttrs(slog.String("line", k.msg), slog.Uint64("count", n), slog.Duration("window", s.interval))
	s.root.Handle(context.Background(), r)
}
