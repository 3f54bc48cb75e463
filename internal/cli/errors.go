package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/strata-containers/strata/internal/errdefs"
)

// StatusError is an error whose message is printed as it is (no "Error: "
// prefix) and which sets the exit code: usage errors, and failures a
// command has already reported in its own words.
type StatusError struct {
	Status     string
	StatusCode int
}

func (e StatusError) Error() string { return e.Status }

// Exit codes, as the docker CLI uses them.
const (
	exitOK       = 0
	exitFailure  = 1   // a command failed (no such image, a conflict, bad input...)
	exitUsage    = 125 // the command line itself is wrong (unknown flag, bad flag value)
	exitCanceled = 130 // interrupted (128 + SIGINT)
)

// exitCodes maps error classes to exit codes; the first class that matches
// wins. It is the one place to change how strata reports failures to the
// shell: docker returns 1 for every failure of a command other than `run`.
var exitCodes = []struct {
	class error
	code  int
}{
	{context.Canceled, exitCanceled},
	{errdefs.ErrNotFound, exitFailure},
	{errdefs.ErrConflict, exitFailure},
	{errdefs.ErrInvalid, exitFailure},
	{errdefs.ErrUnavailable, exitFailure},
	{errdefs.ErrDataLoss, exitFailure},
}

// ExitCode returns the exit code for err.
func ExitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var se StatusError
	if errors.As(err, &se) {
		if se.StatusCode == 0 {
			return exitFailure
		}
		return se.StatusCode
	}
	for _, e := range exitCodes {
		if errors.Is(err, e.class) {
			return e.code
		}
	}
	return exitFailure
}

// Exit prints err to w as docker does and returns the exit code for it:
// a StatusError's text as it is, anything else as "Error: <message>".
func Exit(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var se StatusError
	switch {
	case errors.As(err, &se):
		if se.Status != "" {
			fmt.Fprintln(w, se.Status)
		}
	case errors.Is(err, context.Canceled):
		// The user pressed ^C and knows it; say no more than that.
		fmt.Fprintln(w, "Error: interrupted")
	default:
		fmt.Fprintln(w, "Error: "+err.Error())
	}
	return ExitCode(err)
}
