package main

import (
	"context"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// orderEventQueue bounds the orders other instances shipped or cancelled that wait
// to be told to this instance's customers; past it, events are dropped and logged,
// so that a flood never holds up the store's listener.
const orderEventQueue = 1024

// orderNotices tells this instance's customers of the orders other instances of a
// shared store ship or cancel, until ctx ends. Each event is handed on at once by the
// store's listener and told here: the order is read (for its account and number),
// and its customer's sessions on this instance, if any, get the notice the manager's
// own ship or cancel gives. The instance that shipped tells its own customers itself
// and is not told of its own events, so each session is told once.
type orderNotices struct {
	events chan storify.OrderEvent
	done   chan struct{}
}

// watchOrders starts telling the customers of srv of the orders shipped or
// cancelled elsewhere, if store is shared (storify.OrderWatcher); stop ends it.
func watchOrders(ctx context.Context, store storify.Store, srv *server.Server, m *Main) (stop func()) {
	w, ok := m.Store.(storify.OrderWatcher)
	if !ok {
		return func() {}
	}
	n := &orderNotices{events: make(chan storify.OrderEvent, orderEventQueue), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(ctx)
	w.WatchOrders(func(e storify.OrderEvent) {
		select {
		case n.events <- e:
		default:
			m.Log.Warn("order notice dropped: too many waiting", "order", e.OrderID, "status", string(e.Status))
		}
	})
	go func() {
		defer close(n.done)
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-n.events:
				o, err := store.Order(ctx, e.OrderID)
				if err != nil {
					m.Log.Warn("order notice not told: the order cannot be read", "order", e.OrderID, "err", err)
					continue
				}
				if o.Status != e.Status {
					continue // changed again since; that change has its own event
				}
				srv.NotifyOrder(o, shell.OrderNotice(o))
			}
		}
	}()
	return func() {
		w.WatchOrders(nil)
		cancel()
		<-n.done
	}
}
