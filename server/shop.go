package server

import (
	"context"
	"log/slog"
	"strings"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// ShopOptions are what the customer sessions of a Shop share beyond the store.
// Zero fields get defaults.
type ShopOptions struct {
	// Passwords hashes within the process's CPU budget; share one per process.
	Passwords *shell.Passwords
	// Registrations limits sign-ups per address and for the whole store.
	Registrations *shell.RegisterThrottle
	// Throttle is the login throttle.
	Throttle *shell.LoginThrottle
	// Metrics, if set, is told of every customer command and login.
	Metrics storify.CommandMetrics
}

// Shop returns the Handler that runs the customer command set on a store. Its
// sessions share one login throttle, one sign-up throttle, one password hashing
// budget and one rendered catalog; opts (at most one) sets them.
func Shop(store storify.Store, name string, log *slog.Logger, opts ...ShopOptions) Handler {
	var o ShopOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Passwords == nil {
		o.Passwords = shell.NewPasswords(shell.PasswordBudget{})
	}
	if o.Registrations == nil {
		o.Registrations = shell.NewRegisterThrottle(0)
	}
	if o.Throttle == nil {
		o.Throttle = shell.NewLoginThrottle()
	}
	return &shop{store: store, name: name, log: log, opts: o, catalog: &shell.CatalogCache{}}
}

type shop struct {
	store   storify.Store
	name    string
	log     *slog.Logger
	opts    ShopOptions
	catalog *shell.CatalogCache
}

// Prompt is the customer prompt (Prompter).
func (h *shop) Prompt() string { return shell.CustomerPrompt(h.name) }

// ServeSession runs the customer commands on s. The throttles count the
// customer's address as every per-address limit does (IPv6 by /64).
func (h *shop) ServeSession(ctx context.Context, s *Session) {
	c := shell.NewCustomer(h.store, s, shell.CustomerConfig{
		StoreName: h.name, Log: h.log, LogID: s.ID,
		Addr: clientKey(s.conn.RemoteAddr()), Throttle: h.opts.Throttle, Catalog: h.catalog,
		Passwords: h.opts.Passwords, Registrations: h.opts.Registrations, Key: s.Key(), Metrics: h.opts.Metrics,
	})
	if acct := s.Account(); acct != nil {
		if err := c.LogIn(ctx, *acct, s.Command() != ""); err != nil {
			h.log.Error("logging in an authenticated account", "session", s.ID, "err", err)
		}
	}
	s.SetCustomer(c)
	if comp, ok := s.Codec().(Completer); ok {
		comp.SetCompletion(func(before string) (string, []string) { return c.Complete(ctx, before) })
	}
	if cmd := s.Command(); cmd != "" {
		failures := c.Failures()
		err := c.Exec(ctx, cmd)
		if ExecFailed(cmd, err, c.Failures() > failures) {
			s.SetExitStatus(1)
		}
		return
	}
	if err := c.Run(ctx); err != nil {
		h.log.Debug("session ended", "session", s.ID, "err", err)
	}
}

// ExecFailed says whether a single command (SSH exec) failed, for its exit status:
// it reported a failure, or it ended early because input ended while it asked for
// something it was not given (no command but quit ends the session otherwise).
func ExecFailed(command string, err error, failed bool) bool {
	if failed {
		return true
	}
	if err == nil {
		return false
	}
	words := strings.Fields(strings.ToLower(command))
	return len(words) == 0 || words[0] != "quit" && words[0] != "exit" && words[0] != "bye"
}
