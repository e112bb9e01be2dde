package server

import (
	"context"
	"log/slog"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// Shop returns the Handler that runs the customer command set on a store. Its
// sessions share one login throttle.
func Shop(store storify.Store, name string, log *slog.Logger) Handler {
	throttle, catalog := shell.NewLoginThrottle(), &shell.CatalogCache{}
	return HandlerFunc(func(ctx context.Context, s *Session) {
		c := shell.NewCustomer(store, s, shell.CustomerConfig{
			StoreName: name, Log: log.With("session", s.ID), OnCommand: s.Touch,
			Addr: hostOf(s.conn.RemoteAddr()), Throttle: throttle, Catalog: catalog,
		})
		s.SetCustomer(c)
		if err := c.Run(ctx); err != nil {
			log.Debug("session ended", "session", s.ID, "err", err)
		}
	})
}
