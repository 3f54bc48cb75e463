package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestE2EMonitorExe: with strata-monitor installed next to strata (as the
// helpers build them), each container's monitor runs from it, and an
// --rm container whose launcher left is still removed by its monitor,
// which runs strata (not itself) for that.
func TestE2EMonitorExe(t *testing.T) {
	s := newContainerStore(t)
	want := filepath.Join(filepath.Dir(s.bin), "strata-monitor")
	s.assertMonitorExe(t, want)
	s.assertDetachedRmRemoved(t)
}

// TestE2EMonitorExeFallback: strata installed on its own is its own
// monitor, and everything works the same.
func TestE2EMonitorExeFallback(t *testing.T) {
	s := newContainerStore(t)
	alone := filepath.Join(t.TempDir(), "strata")
	data, err := os.ReadFile(s.bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	s.bin = alone
	s.assertMonitorExe(t, alone)
	if got := s.ok(nil, "run", "--rm", "busybox", "echo", "hi"); got != "hi\n" {
		t.Fatalf("run --rm echo hi: %q", got)
	}
	s.assertDetachedRmRemoved(t)
}

// assertMonitorExe runs a detached container and checks that its monitor's
// executable is want.
func (s *store) assertMonitorExe(t *testing.T, want string) {
	t.Helper()
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "busybox", "sleep", "600"))
	got, err := os.Readlink("/proc/" + strconv.Itoa(s.monitorPid(t, id)) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("monitor runs %s, want %s", got, want)
	}
	s.ok(nil, "rm", "-f", id)
	s.assertClean(t, id)
}

// assertDetachedRmRemoved: `run -d --rm` leaves the removal to the
// monitor's cleanup.
func (s *store) assertDetachedRmRemoved(t *testing.T) {
	t.Helper()
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--rm", "busybox", "true"))
	waitFor(t, "the --rm container to be removed", func() bool {
		return s.ok(nil, "ps", "-aq") == ""
	})
	s.assertClean(t, id)
}
