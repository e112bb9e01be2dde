package main

import (
	"context"
	"log/slog"

	"github.com/storify/storify"
)

// eventStore is the Store as the customers' server uses it: every checkout's
// outcome is an event in the log, so the console shows the shop moving (an order
// placed, a checkout refused for want of stock). Everything else passes through.
type eventStore struct {
	storify.Store
	log *slog.Logger
}

// Checkout places the order and logs what came of it.
func (s eventStore) Checkout(ctx context.Context, no storify.NewOrder) (storify.Order, error) {
	o, err := s.Store.Checkout(ctx, no)
	switch {
	case err == nil:
		s.log.Info("order placed", "order", o.ID, "customer", o.Customer, "units", o.Units(), "total", o.Total.String())
	case storify.ErrorCode(err) == storify.ECONFLICT:
		s.log.Info("checkout refused", "customer", no.Customer, "why", storify.ErrorMessage(err))
	}
	return o, err
}
