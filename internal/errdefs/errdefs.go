// Package errdefs defines the classes of error that strata distinguishes.
//
// A class is attached where the fact is known (the store that did not find a
// blob, the parser that rejected a reference) either by wrapping a sentinel
// with %w or with the constructors below. Callers test the class with
// errors.Is, and the CLI and the API map classes to exit codes and HTTP
// statuses in one place each.
package errdefs

import (
	"errors"
	"fmt"
)

// The classes. Messages are lower-case so they read well at the end of a
// wrapped chain ("image \"x\": not found").
var (
	// ErrNotFound: the named object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the object exists already, or its state forbids the
	// operation (an image used by a container, a name already taken).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed (a reference, a manifest, a flag).
	ErrInvalid = errors.New("invalid argument")
	// ErrUnavailable: a feature the host lacks (overlay, a cgroup controller).
	ErrUnavailable = errors.New("unavailable")
	// ErrDataLoss: stored data does not match its digest or is missing.
	ErrDataLoss = errors.New("data corrupted")
)

// classified carries a class without putting the class's text in the
// message: "No such image: x" reads better than "No such image: x: not found".
type classified struct {
	class error
	err   error // the formatted message, wrapping any %w cause
}

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.class, e.err} }

func wrapf(class error, format string, args []any) error {
	return &classified{class: class, err: fmt.Errorf(format, args...)}
}

// NotFound returns an error of class ErrNotFound, formatted as fmt.Errorf
// (so a cause wrapped with %w stays reachable by errors.Is/As).
func NotFound(format string, args ...any) error { return wrapf(ErrNotFound, format, args) }

// Conflict returns an error of class ErrConflict.
func Conflict(format string, args ...any) error { return wrapf(ErrConflict, format, args) }

// Invalid returns an error of class ErrInvalid.
func Invalid(format string, args ...any) error { return wrapf(ErrInvalid, format, args) }

// Unavailable returns an error of class ErrUnavailable.
func Unavailable(format string, args ...any) error { return wrapf(ErrUnavailable, format, args) }

// DataLoss returns an error of class ErrDataLoss.
func DataLoss(format string, args ...any) error { return wrapf(ErrDataLoss, format, args) }

// IsNotFound reports whether err is of class ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is of class ErrConflict.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether err is of class ErrInvalid.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsUnavailable reports whether err is of class ErrUnavailable.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsDataLoss reports whether err is of class ErrDataLoss.
func IsDataLoss(err error) bool { return errors.Is(err, ErrDataLoss) }
