package engine

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
)

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		st   monitor.State
		want string
	}{
		{monitor.State{Status: "running", StartedAt: now.Add(-2 * time.Second)}, "Up 2 seconds"},
		{monitor.State{Status: "running", StartedAt: now.Add(-300 * time.Millisecond)}, "Up Less than a second"},
		{monitor.State{Status: "exited", ExitCode: 0, FinishedAt: now.Add(-3 * time.Second)}, "Exited (0) 3 seconds ago"},
		{monitor.State{Status: "exited", ExitCode: 255}, "Exited (255)"},
		{monitor.State{Status: "created"}, "Created"},
	}
	for _, c := range cases {
		if got := statusText(c.st, now); got != c.want {
			t.Errorf("%+v: %q, want %q", c.st, got, c.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"": unix.SIGKILL, "TERM": unix.SIGTERM, "sighup": unix.SIGHUP, "9": unix.SIGKILL, "USR1": unix.SIGUSR1} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	if _, err := parseSignal("NOPE"); !errdefs.IsInvalid(err) {
		t.Errorf("NOPE: %v", err)
	}
}
