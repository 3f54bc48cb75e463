package cli

import (
	"strings"
	"testing"
)

// TestE2ESystemCountsContainers: info counts containers by state, and df's
// Containers line sums the writable layers, the stopped ones' being
// reclaimable.
func TestE2ESystemCountsContainers(t *testing.T) {
	s := newContainerStore(t)
	running := strings.TrimSpace(s.ok(nil, "run", "-d", "busybox", "sleep", "1000"))
	t.Cleanup(func() { s.run(nil, "rm", "-f", running) })
	// 1 MiB in the writable layer of a stopped container.
	stopped := strings.TrimSpace(s.ok(nil, "create", "busybox", "true"))
	s.ok(nil, "run", "--name", "writer", "busybox", "dd", "if=/dev/zero", "of=/blob", "bs=1024", "count=1024")

	got := s.ok(nil, "info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}")
	if got != "3 1 0 2\n" {
		t.Errorf("info counts: %q, want 3 1 0 2", got)
	}
	if out := s.ok(nil, "info"); !strings.Contains(out, " Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n") {
		t.Errorf("info:\n%s", out)
	}
	df := s.ok(nil, "system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}")
	if !strings.Contains(df, "Containers: 3 1 1.049MB 1.049MB (100%)\n") {
		t.Errorf("df:\n%s", df)
	}
	verbose := s.ok(nil, "system", "df", "-v", "--format", "{{range .Containers}}{{.Names}} {{.Size}} {{.LocalVolumes}}\n{{end}}")
	if !strings.Contains(verbose, "writer 1.049MB 0\n") || strings.Count(verbose, "\n") != 3 {
		t.Errorf("df -v containers:\n%s", verbose)
	}
	if table := s.ok(nil, "system", "df", "-v"); !strings.Contains(table, stopped[:12]) {
		t.Errorf("df -v does not list %s:\n%s", stopped[:12], table)
	}
}
