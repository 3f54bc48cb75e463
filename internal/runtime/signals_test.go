package runtime

import (
	"os/signal"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWorkloadSignalsDefault checks that a signal its creator ignores is
// not ignored by the workload (a ^C must reach it, a shell must be able
// to trap it).
func TestWorkloadSignalsDefault(t *testing.T) {
	bundle, spec := newBundle(t, "grep", "SigIgn", "/proc/self/status")
	signal.Ignore(unix.SIGHUP)
	t.Cleanup(func() { signal.Reset(unix.SIGHUP) })
	res := run(t, newRuntime(t), bundle, spec)
	if got := strings.TrimSpace(res.stdout); got != "SigIgn:\t0000000000000000" {
		t.Errorf("workload's ignored signals: %q, want none", got)
	}
}
