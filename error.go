package storify

import (
	"errors"
	"fmt"
)

// Error codes. A code says what kind of failure it was; the message says what to do.
const (
	EINVALID  = "invalid"  // the input is wrong: a bad quantity, price or name
	ENOTFOUND = "notfound" // no such product or order
	ECONFLICT = "conflict" // the store's state forbids it: out of stock, already shipped
	// EUNAVAILABLE: the store could not reach its database within its time budget
	// (--db-timeout), or lost it; nothing was changed, unless the error is
	// ErrUnconfirmed. Trying again later may succeed.
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal" // anything else; the message is not shown to customers
)

// ErrUnavailable is what a Store returns when it cannot reach its database in time:
// nothing was done, so nothing was charged. Backends wrap it with the cause
// (Unavailable(err)), which is logged, never shown.
var ErrUnavailable = &Error{Code: EUNAVAILABLE,
	Message: "the store cannot reach its database just now, so nothing was done and nothing was charged; please try again in a moment"}

// ErrUnconfirmed is what Checkout returns when the store lost its database while
// committing the order and could not find out, within its time budget, whether the
// commit took effect: the order may or may not be placed. Looking the order up by its
// token later (OrderFilter.Token) settles it.
var ErrUnconfirmed = &Error{Code: EUNAVAILABLE,
	Message: "the store lost its database while placing your order and could not confirm it; your cart is kept. Type orders in a moment to check"}

// Error is an application error: Message is fit to show the user as it is.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other error
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of an application error; any other error gets a
// generic message, since its text may hold details the user must not see.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "something went wrong on our side; please try again"
}

// Unavailable wraps cause, a failure to reach the database in time, as
// ErrUnavailable: callers see ErrUnavailable (errors.Is, ErrorCode, ErrorMessage),
// and the cause's text is what Error returns, for the log.
func Unavailable(cause error) error { return &causedError{ErrUnavailable, cause} }

// Unconfirmed wraps cause, the failure that left a checkout's commit unconfirmed, as
// ErrUnconfirmed, as Unavailable does for ErrUnavailable.
func Unconfirmed(cause error) error { return &causedError{ErrUnconfirmed, cause} }

// causedError is an application error with the failure behind it.
type causedError struct {
	app   *Error
	cause error
}

func (e *causedError) Error() string {
	cause := e.cause
	if inner, ok := cause.(*causedError); ok {
		cause = inner.cause // unconfirmed: unavailable: … says no more than unconfirmed: …
	}
	return e.app.Code + ": " + cause.Error()
}
func (e *causedError) Unwrap() []error { return []error{e.app, e.cause} }
