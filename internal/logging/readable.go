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

// readableEvents are how the store's events read on a terminal: each message's line,
// with {key} standing for the value of that attribute. Attributes a line does not
// mention follow it in parentheses; a message not listed here is shown as it is.
var readableEvents = map[string]string{
	"customer connected":                             "customer {session} connected from {addr}",
	"customer left":                                  "customer {session} ({addr}) left",
	"customer idle; disconnecting":                   "customer {session} was idle too long and is disconnected",
	"customer not reading; dropped":                  "customer {session} ({addr}) stopped reading and is dropped, after {after}",
	"customer refused":                               "a customer from {addr} was refused: {why}",
	"order placed":                                   "order #{order} placed by {customer}: {units} units, {total}",
	"checkout refused":                               "a checkout by {customer} was refused: {why}",
	"store open":                                     "{name} is open on {db}; customers connect with {customers}",
	"new store: added the sample catalog":            "a new store: the sample catalog of {products} products is added",
	"store closed":                                   "the store is closed",
	"similar lines suppressed":                       "{count} more like \"{line}\" in {window}",
	"log lines dropped: the log output was too slow": "{dropped} lines were lost: the terminal was too slow",
}

// readable is a slog.Handler for a person at a terminal: one plain sentence per
// record, with its time of day, instead of key=value syntax.
type readable struct {
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr // from WithAttrs
}

// NewReadableHandler returns a handler that writes each record to w as one line a
// person reads at a glance: "10:24:32 customer 3 connected from 127.0.0.1:50412".
// Warnings and errors say so first.
func NewReadableHandler(w io.Writer, level slog.Leveler) slog.Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &readable{w: w, level: level}
}

func (h *readable) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *readable) WithAttrs(as []slog.Attr) slog.Handler {
	return &readable{w: h.w, level: h.level, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

// WithGroup is not needed by the store's logging; groups are flattened.
func (h *readable) WithGroup(string) slog.Handler { return h }

func (h *readable) Handle(_ context.Context, r slog.Record) error {
	var attrs []slog.Attr
	attrs = append(attrs, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	var b bytes.Buffer
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b.WriteString(t.Format("15:04:05 "))
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	}
	used := map[string]bool{}
	line, ok := readableEvents[r.Message]
	if !ok {
		line = r.Message
	}
	for _, a := range attrs {
		key := "{" + a.Key + "}"
		if strings.Contains(line, key) {
			line = strings.ReplaceAll(line, key, value(a))
			used[a.Key] = true
		}
	}
	b.WriteString(strings.ReplaceAll(line, " 1 units", " 1 unit"))
	sep := " ("
	for _, a := range attrs {
		if used[a.Key] || a.Equal(slog.Attr{}) {
			continue
		}
		fmt.Fprintf(&b, "%s%s %s", sep, a.Key, value(a))
		sep = ", "
	}
	if sep == ", " {
		b.WriteByte(')')
	}
	b.WriteByte('\n')
	_, err := h.w.Write(b.Bytes())
	return err
}

// value is an attribute's value as a person reads it: no quotes, no control
// characters.
func value(a slog.Attr) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, a.Value.Resolve().String())
}
