package models

import (
	"errors"
	"fmt"
)

// Error codes, mapped to HTTP statuses at one place in handlers.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says how to fix it
	ENOTFOUND     = "not_found"    // the thing does not exist (or is not visible)
	ECONFLICT     = "conflict"     // the input clashes with something stored
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials fine, role too low
	ETOOLARGE     = "too_large"    // body or row count over a limit
	EUNAVAILABLE  = "unavailable"  // a dependency (database, directory) is down
	ETOOMANY      = "too_many"     // throttled
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is a domain error with a code and a message that is safe to show.
// The cause, when there is one, is for logs and for errors.Is/As: its text
// (a driver's, naming users, hosts, ports and databases) never reaches a
// client, which sees Message only.
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault, when there is one.
	Field string
	// Cause is the underlying error, if any.
	Cause error
}

// Error is the safe message followed by the cause, for logs.
func (e *Error) Error() string {
	if e.Cause == nil {
		return e.Message
	}
	return e.Message + ": " + e.Cause.Error()
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// Wrap returns an *Error with the given code and safe message that keeps
// cause for the log. The message must not quote the cause.
func Wrap(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error that names the field at fault.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err, or a generic one for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
