package errdefs

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestClassesAndCauses(t *testing.T) {
	err := Invalid("reading layer %s: %w", "sha256:ab", io.ErrUnexpectedEOF)
	if !IsInvalid(err) || IsNotFound(err) {
		t.Fatalf("class lost: %v", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cause lost: %v", err)
	}
	if got, want := err.Error(), "reading layer sha256:ab: unexpected EOF"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("loading: %w", NotFound("No such image: %s", "x"))
	if !IsNotFound(wrapped) || IsConflict(wrapped) {
		t.Fatalf("class not found through a wrap: %v", wrapped)
	}
	if !IsConflict(fmt.Errorf("tag: %w", ErrConflict)) {
		t.Fatal("sentinel wrap not classified")
	}
}
