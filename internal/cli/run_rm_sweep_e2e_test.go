package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ERunRmAbandonedSwept kills both the CLI of `run --rm` and the
// container's monitor with SIGKILL: the container is left Exited (255),
// and the next command that sweeps (a create) removes it, as docker's
// daemon does when it restarts.
func TestE2ERunRmAbandonedSwept(t *testing.T) {
	s := newContainerStore(t)
	cmd := s.command(nil, "run", "--rm", "--name", "doomed", "busybox", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, "the --rm container to run", func() bool { return strings.HasPrefix(s.status("doomed"), "running") })
	id := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{.Id}}", "doomed"))
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	s.killMonitor(t, id)
	if got := s.ok(nil, "ps", "-a", "--format", "{{.Names}} {{.Status}}"); got != "doomed Exited (255)\n" {
		t.Fatalf("ps -a with monitor and CLI dead: %q", got)
	}
	s.ok(nil, "create", "--name", "next", "busybox", "true")
	if got := s.ok(nil, "ps", "-a", "--format", "{{.Names}}"); got != "next\n" {
		t.Fatalf("the abandoned --rm container was not swept: ps -a lists %q", got)
	}
	if _, err := os.Stat(filepath.Join(s.root, "containers", id)); !os.IsNotExist(err) {
		t.Errorf("its directory is left: %v", err)
	}
}
