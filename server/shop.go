package server

import (
	"context"
	"log/slog"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// Shop returns the Handler that runs the customer command set on a store.
func Shop(store storify.Store, name string, log *slog.Logger) Handler {
	return HandlerFunc(func(ctx context.Context, s *Session) {
		c := shell.NewCustomer(store, s, shell.CustomerConfig{
			StoreName: name, Log: log.With("session", s.ID), OnCommand: s.Touch,
		})
		s.SetInfo(func() (string, int) { return c.Name(), c.CartUnits() })
		if err := c.Run(ctx); err != nil {
			log.Debug("session ended", "session", s.ID, "err", err)
		}
	})
}
