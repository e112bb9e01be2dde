package storify

// OrderEvent is an order another instance of the store shipped or cancelled.
type OrderEvent struct {
	OrderID int64
	Status  OrderStatus // StatusShipped or StatusCancelled
}

// OrderWatcher is a Store that several instances share (PostgreSQL) and that tells
// each instance of the orders the others ship or cancel, so that a customer
// connected to any instance is told. An instance is not told of its own changes.
type OrderWatcher interface {
	// WatchOrders has f called with each event, on the store's own goroutine: f
	// must not wait (hand the event on). A nil f stops the calls. Each event is
	// delivered once; those announced while the store could not hear them (its
	// connection lost) are delivered when it is back.
	WatchOrders(f func(OrderEvent))
}
