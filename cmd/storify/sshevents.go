package main

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/storify/storify/server"
)

// managerEvents is a log handler that shows events to the managers connected over
// SSH, above the line they type, as the console shows them: each record is
// formatted as the console's log is and posted to their mailboxes, which never
// waits for the network. Their own commands, which the log records too, are left
// out: each manager sees what they typed already.
type managerEvents struct {
	srv  *atomic.Pointer[server.Server]
	text slog.Handler
}

func newManagerEvents(srv *atomic.Pointer[server.Server]) *managerEvents {
	return &managerEvents{srv: srv, text: slog.NewTextHandler(eventWriter{srv}, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{} // shown as it happens, as on the console
		}
		return a
	}})}
}

func (h *managerEvents) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && h.srv.Load() != nil
}

func (h *managerEvents) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "manager command" {
		return nil
	}
	return h.text.Handle(ctx, r)
}

func (h *managerEvents) WithAttrs(as []slog.Attr) slog.Handler {
	return &managerEvents{srv: h.srv, text: h.text.WithAttrs(as)}
}

func (h *managerEvents) WithGroup(name string) slog.Handler {
	return &managerEvents{srv: h.srv, text: h.text.WithGroup(name)}
}

// eventWriter takes one formatted record a Write.
type eventWriter struct {
	srv *atomic.Pointer[server.Server]
}

func (w eventWriter) Write(p []byte) (int, error) {
	if srv := w.srv.Load(); srv != nil {
		srv.NotifyManagers(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

// teeHandler sends every record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.a.Enabled(ctx, r.Level) {
		err = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		t.b.Handle(ctx, r)
	}
	return err
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
