// Package logging is storify's log path, built so that logging never holds up the
// store: a slog handler (text or JSON) writes through a Writer that queues whole
// lines and never waits for its output, behind a RateLimiter that turns a flood of
// one message into a few lines and a summary. A log reader that stops reading
// loses lines, counted and reported, instead of stopping the accept loop.
package logging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// The defaults of Config's rate limit: each level and message passes at most
// DefaultBurst times per DefaultInterval.
const (
	DefaultBurst    = 50
	DefaultInterval = time.Second
)

// Config says how log lines look and how much a slow reader may cost.
type Config struct {
	Level slog.Leveler // the lowest level logged; nil means Info
	JSON  bool         // JSON lines instead of slog's key=value text
	// NoTime leaves the time out: a console shows events as they come.
	NoTime bool
	// Readable writes each line as a plain sentence for a person at a terminal
	// (NewReadableHandler), instead of text or JSON.
	Readable bool
	// MaxBytes caps the lines waiting for the output (see WriterConfig).
	MaxBytes int
	// Burst and Interval limit each level and message (see RateLimiter);
	// zero means DefaultBurst and DefaultInterval.
	Burst    int
	Interval time.Duration
}

// Logs is a logger whose lines go out through a Writer, behind a RateLimiter.
type Logs struct {
	Logger  *slog.Logger
	limiter *RateLimiter
	writer  *Writer
}

// New returns Logs that write to out.
func New(out io.Writer, cfg Config) *Logs {
	opts := &slog.HandlerOptions{Level: cfg.Level}
	if cfg.NoTime {
		opts.ReplaceAttr = dropTime
	}
	format := func(w io.Writer) slog.Handler {
		if cfg.Readable {
			return NewReadableHandler(w, cfg.Level)
		}
		if cfg.JSON {
			return slog.NewJSONHandler(w, opts)
		}
		return slog.NewTextHandler(w, opts)
	}
	w := NewWriter(out, WriterConfig{MaxBytes: cfg.MaxBytes, Notice: func(n uint64) []byte {
		var b bytes.Buffer
		r := slog.NewRecord(time.Now(), slog.LevelWarn, "log lines dropped: the log output was too slow", 0)
		r.AddAttrs(slog.Uint64("dropped", n))
		format(&b).Handle(context.Background(), r)
		return b.Bytes()
	}})
	burst, interval := cfg.Burst, cfg.Interval
	if burst <= 0 {
		burst = DefaultBurst
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	rl := NewRateLimiter(format(w), burst, interval)
	return &Logs{Logger: slog.New(rl), limiter: rl, writer: w}
}

// Dropped is how many lines were never written (see Writer.Dropped).
func (l *Logs) Dropped() uint64 { return l.writer.Dropped() }

// Close logs the pending rate-limit summaries, then closes the Writer: it waits for
// the queued lines until ctx ends, and no longer.
func (l *Logs) Close(ctx context.Context) error {
	l.limiter.Flush()
	return l.writer.Close(ctx)
}

// dropTime leaves the time out of log lines.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// ParseLevel reads debug, info, warn or error, in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// ParseFormat reads text or json, in any case, and reports whether it is json.
func ParseFormat(s string) (json bool, err error) {
	switch strings.ToLower(s) {
	case "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("log format %q: want text or json", s)
}
