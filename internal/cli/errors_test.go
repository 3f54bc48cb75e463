package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"success", nil, 0, ""},
		{"not found", errdefs.NotFound("No such image: x"), 1, "Error: No such image: x\n"},
		{"wrapped conflict", fmt.Errorf("removing: %w", errdefs.Conflict("in use")), 1, "Error: removing: in use\n"},
		{"invalid", errdefs.Invalid("invalid reference format"), 1, "Error: invalid reference format\n"},
		{"unavailable", errdefs.Unavailable("no overlay"), 1, "Error: no overlay\n"},
		{"data loss", errdefs.DataLoss("bad blob"), 1, "Error: bad blob\n"},
		{"unclassified", errors.New("disk on fire"), 1, "Error: disk on fire\n"},
		{"interrupted", fmt.Errorf("loading: %w", context.Canceled), 130, "Error: interrupted\n"},
		{"usage", StatusError{Status: "unknown flag: --x\nSee 'strata images --help'.", StatusCode: 125},
			125, "unknown flag: --x\nSee 'strata images --help'.\n"},
		{"status without code", StatusError{Status: "failed"}, 1, "failed\n"},
		{"silent status", StatusError{StatusCode: 3}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.code {
				t.Errorf("ExitCode = %d, want %d", got, tt.code)
			}
			var buf bytes.Buffer
			if got := Exit(&buf, tt.err); got != tt.code || buf.String() != tt.stderr {
				t.Errorf("Exit = %d, %q; want %d, %q", got, buf.String(), tt.code, tt.stderr)
			}
		})
	}
}
