package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ERunRmKilled kills `run --rm` with SIGKILL at a spread of moments
// (creating the record, the writable layer, starting, running, removing);
// then the next command, a monitor's own cleanup, and an `rm -f` of what a
// kill left as a created container leave nothing: no record, writable
// layer, mount, bundle or cgroup, and `system check` is clean.
func TestE2ERunRmKilled(t *testing.T) {
	s := newContainerStore(t)
	for _, delay := range []time.Duration{0, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 200} {
		cmd := s.command(nil, "run", "--rm", "busybox", "sh", "-c", "sleep 0.05")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	// A monitor whose launcher died cleans up on its own; wait for them.
	waitNoProcesses(t, s.root)
	s.ok(nil, "run", "--rm", "busybox", "true") // sweeps
	for _, id := range strings.Fields(s.ok(nil, "ps", "-aq", "--no-trunc")) {
		s.ok(nil, "rm", "-f", id) // killed after its creation, before its start
	}
	s.assertClean(t)
	assertNoWritableLayers(t, s)
	if r := s.run(nil, "system", "check"); r.code != 0 {
		t.Errorf("system check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestE2ERunRmPowerLoss builds what a power loss can leave of an --rm
// container, whose record and writable layer are written without fsync:
// a writable layer whose record is gone, a record whose config.json is
// empty, a writable layer whose rw.json is empty. The next `run` sweeps
// them all.
func TestE2ERunRmPowerLoss(t *testing.T) {
	s := newContainerStore(t)
	orphan := strings.TrimSpace(s.ok(nil, "create", "--rm", "busybox", "true"))
	torn := strings.TrimSpace(s.ok(nil, "create", "--rm", "--name", "torn", "busybox", "true"))
	tornRW := strings.TrimSpace(s.ok(nil, "create", "--rm", "busybox", "true"))
	rws, _ := filepath.Glob(filepath.Join(s.root, "layers", "*", "rw"))
	if len(rws) != 1 {
		t.Fatalf("writable layer directories: %v", rws)
	}
	if err := os.RemoveAll(filepath.Join(s.root, "containers", orphan)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(s.root, "containers", torn, "config.json"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.root, "containers", tornRW)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(rws[0], tornRW, "rw.json"), 0); err != nil {
		t.Fatal(err)
	}
	s.ok(nil, "run", "--rm", "--name", "torn", "busybox", "true") // sweeps; the name is free
	if out := s.ok(nil, "ps", "-aq"); out != "" {
		t.Errorf("ps -aq after the sweep: %q", out)
	}
	s.assertClean(t)
	assertNoWritableLayers(t, s)
	if r := s.run(nil, "system", "check"); r.code != 0 {
		t.Errorf("system check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func assertNoWritableLayers(t *testing.T, s *store) {
	t.Helper()
	if rws, _ := filepath.Glob(filepath.Join(s.root, "layers", "*", "rw", "*")); len(rws) > 0 {
		t.Errorf("writable layers left: %v", rws)
	}
	if tmp, _ := filepath.Glob(filepath.Join(s.root, "layers", "*", "tmp", "*")); len(tmp) > 0 {
		t.Errorf("layer tmp entries left: %v", tmp)
	}
}

// waitNoProcesses waits (at most a minute) until no process mentions dir.
func waitNoProcesses(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(processesMentioning(dir)) == 0 {
			return
		}
	}
	t.Errorf("processes left: %v", processesMentioning(dir))
}
