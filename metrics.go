package storify

import "time"

// Metrics is how the store's rooms report what happens in them, so that an operator
// can watch a running store. Each room takes only its own part (StoreMetrics,
// CommandMetrics, ServerMetrics); the metrics package implements all of them on
// Prometheus, and NoMetrics reports nothing. Implementations are safe for concurrent
// use, and cheap: they are called on the paths every command takes, so a method
// allocates nothing and looks nothing up by name.
type Metrics interface {
	StoreMetrics
	CommandMetrics
	ServerMetrics
}

// StoreMetrics is what the storage reports.
type StoreMetrics interface {
	// CheckoutPlaced counts an order placed, of units units.
	CheckoutPlaced(units int)
	// CheckoutRefused counts a checkout the store refused (ECONFLICT: a line out of
	// stock, a discontinued product, a saved cart changed meanwhile).
	CheckoutRefused()
	// CommitBatch observes one group commit of n checkouts.
	CommitBatch(n int)
	// DatabaseError counts a Store call that failed for want of its database:
	// unavailable (EUNAVAILABLE: not reached in time, or a commit unconfirmed) or
	// not (EINTERNAL: anything else the database or the backend failed with).
	DatabaseError(unavailable bool)
	// DatabaseRetry counts a transaction run again after a transient failure (a
	// deadlock, a serialization failure, a connection lost before COMMIT).
	DatabaseRetry()
	// Alone reports that the instance has become, or stopped being, the only one of
	// its store (PostgreSQL), whose catalog reads need no round trip of its listener.
	Alone(alone bool)
}

// Outcome is how a command ended.
type Outcome uint8

// The outcomes of a command.
const (
	OutcomeOK      Outcome = iota // done, or cancelled by the user at a question
	OutcomeRefused                // refused with a reason the user can act on: bad input, out of stock, unknown command
	OutcomeFailed                 // the store failed: its database away, an internal error, shutdown
)

// String is the outcome's label: ok, refused or failed.
func (o Outcome) String() string {
	switch o {
	case OutcomeRefused:
		return "refused"
	case OutcomeFailed:
		return "failed"
	}
	return "ok"
}

// CommandMetrics is what the command shells report.
type CommandMetrics interface {
	// Command returns the recorder of one command of a command set ("customer" or
	// "manager"). A shell asks once per command table and metrics, not per command,
	// so Command may look the name up.
	Command(set, name string) CommandRecorder
	// LoginFailed counts a login refused after its password was checked and found
	// wrong (or its account locked).
	LoginFailed()
	// LoginThrottled counts a login turned away by the login throttle before any
	// password was checked.
	LoginThrottled()
}

// CommandRecorder records the runs of one command.
type CommandRecorder interface {
	// Record records one run: how it ended and how long it took, from the line
	// read (or the last answer to its questions) to the reply written.
	Record(o Outcome, d time.Duration)
}

// ServerMetrics is what the customer server reports. Transports are "telnet" or
// "ssh"; reasons are short fixed words ("max_customers", "max_per_ip", "banned").
type ServerMetrics interface {
	// CustomerConnected counts a customer session starting on transport.
	CustomerConnected(transport string)
	// CustomerDisconnected counts a customer session on transport ending.
	CustomerDisconnected(transport string)
	// ConnectionRefused counts a connection turned away, and why.
	ConnectionRefused(reason string)
	// SlowReaderDropped counts a customer dropped for not reading their replies.
	SlowReaderDropped()
}

// NoMetrics reports nothing: the default of every room.
type NoMetrics struct{}

var _ Metrics = NoMetrics{}

func (NoMetrics) CheckoutPlaced(int)                     {}
func (NoMetrics) CheckoutRefused()                       {}
func (NoMetrics) CommitBatch(int)                        {}
func (NoMetrics) DatabaseError(bool)                     {}
func (NoMetrics) DatabaseRetry()                         {}
func (NoMetrics) Alone(bool)                             {}
func (NoMetrics) Command(string, string) CommandRecorder { return NoMetrics{} }
func (NoMetrics) Record(Outcome, time.Duration)          {}
func (NoMetrics) LoginFailed()                           {}
func (NoMetrics) LoginThrottled()                        {}
func (NoMetrics) CustomerConnected(string)               {}
func (NoMetrics) CustomerDisconnected(string)            {}
func (NoMetrics) ConnectionRefused(string)               {}
func (NoMetrics) SlowReaderDropped()                     {}
