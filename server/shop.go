package server

import (
	"context"
	"log/slog"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// Shop returns the Handler that runs the customer command set on a store. Its
// sessions share one login throttle and one rendered catalog.
func Shop(store storify.Store, name string, log *slog.Logger) Handler {
	return ShopWith(store, name, log, shell.NewLoginThrottle())
}

// ShopWith is Shop with the login throttle given, to share it with a transport
// that checks passwords itself (SSH).
func ShopWith(store storify.Store, name string, log *slog.Logger, throttle *shell.LoginThrottle) Handler {
	return &shop{store: store, name: name, log: log, throttle: throttle, catalog: &shell.CatalogCache{}}
}

type shop struct {
	store    storify.Store
	name     string
	log      *slog.Logger
	throttle *shell.LoginThrottle
	catalog  *shell.CatalogCache
}

// Prompt is the customer prompt (Prompter).
func (h *shop) Prompt() string { return shell.CustomerPrompt(h.name) }

// ServeSession runs the customer commands on s.
func (h *shop) ServeSession(ctx context.Context, s *Session) {
	c := shell.NewCustomer(h.store, s, shell.CustomerConfig{
		StoreName: h.name, Log: h.log, LogID: s.ID,
		Addr: hostOf(s.conn.RemoteAddr()), Throttle: h.throttle, Catalog: h.catalog, Key: s.Key(),
	})
	if acct := s.Account(); acct != nil {
		if err := c.LogIn(ctx, *acct, s.Command() != ""); err != nil {
			h.log.Error("logging in an authenticated account", "session", s.ID, "err", err)
		}
	}
	s.SetCustomer(c)
	if comp, ok := s.Codec().(Completer); ok {
		comp.SetCompletion(c.Complete)
	}
	if s.Command() != "" {
		c.Exec(ctx, s.Command())
		if c.Failed() {
			s.SetExitStatus(1)
		}
		return
	}
	if err := c.Run(ctx); err != nil {
		h.log.Debug("session ended", "session", s.ID, "err", err)
	}
}
