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
	EINTERNAL = "internal" // anything else; the message is not shown to customers
)

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
