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

// FieldErrors are every field at fault in one input, one error a field, in the
// order the checks ran, so that a form can mark them all at once. As an error
// it is EINVALID and reads as its first (errors.As finds that *Error), so a
// caller that knows only *Error sees what it always saw.
type FieldErrors []*Error

func (fe FieldErrors) Error() string {
	if len(fe) == 0 {
		return "invalid input"
	}
	return fe[0].Message
}

// As lets errors.As find the first field's *Error.
func (fe FieldErrors) As(target any) bool {
	if t, ok := target.(**Error); ok && len(fe) > 0 {
		*t = fe[0]
		return true
	}
	return false
}

// Add records a field's error, unless the field has one already (the first
// check to fail on a field says what is wrong with it).
func (fe *FieldErrors) Add(field, format string, args ...any) {
	fe.add(&Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)})
}

// AddErr records err: an *Error with its field, or each of a FieldErrors.
// It reports whether err was nil, for "parse, and use the value if it parsed".
func (fe *FieldErrors) AddErr(err error) bool {
	if err == nil {
		return true
	}
	var many FieldErrors
	var one *Error
	switch {
	case errors.As(err, &many):
		for _, e := range many {
			fe.add(e)
		}
	case errors.As(err, &one):
		fe.add(one)
	default:
		fe.add(&Error{Code: EINVALID, Message: err.Error()})
	}
	return false
}

func (fe *FieldErrors) add(e *Error) {
	for _, x := range *fe {
		if x.Field == e.Field {
			return
		}
	}
	*fe = append(*fe, e)
}

// Has reports whether a field has an error.
func (fe FieldErrors) Has(field string) bool {
	for _, e := range fe {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Err is nil without errors, else fe.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}
