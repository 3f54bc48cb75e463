package cli

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestE2ERestartOnFailure: on-failure:2 restarts a failing workload twice
// and then leaves it exited, with RestartCount 2 kept on disk.
func TestE2ERestartOnFailure(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 3")
	if code := s.ok(nil, "wait", "flaky"); code != "3\n" {
		t.Fatalf("wait: %q", code)
	}
	if st := s.status("flaky"); st != "exited 3 2" {
		t.Fatalf("after on-failure:2: %s, want exited 3 2", st)
	}
	if logs := s.ok(nil, "logs", "flaky"); logs != "run\nrun\nrun\n" {
		t.Errorf("three runs should have logged three lines: %q", logs)
	}
	if got := s.ok(nil, "inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "flaky"); got != "on-failure:2\n" {
		t.Errorf("inspect RestartPolicy: %q", got)
	}
	// A success is not a failure.
	s.ok(nil, "run", "-d", "--name", "fine", "--restart", "on-failure", "busybox", "true")
	s.ok(nil, "wait", "fine")
	if st := s.status("fine"); st != "exited 0 0" {
		t.Errorf("on-failure after success: %s", st)
	}
}

// TestE2ERestartAlwaysStop: always restarts a workload that exits, and a
// stop by the user is not undone.
func TestE2ERestartAlwaysStop(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "again", "--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.05")
	waitFor(t, "two restarts", func() bool { return restartCount(s, "again") >= 2 })
	s.ok(nil, "stop", "again")
	st := s.status("again")
	if !strings.HasPrefix(st, "exited ") {
		t.Fatalf("after stop: %s", st)
	}
	// stop returns once the monitor is gone: nothing can restart it.
	if out, _ := exec.Command("pgrep", "-f", s.root).Output(); len(out) > 0 {
		t.Errorf("processes of the store remain after stop: %s", out)
	}
	if st2 := s.status("again"); st2 != st {
		t.Errorf("state changed after stop: %s, then %s", st, st2)
	}
	// The next start runs it under its policy again.
	s.ok(nil, "start", "again")
	n := restartCount(s, "again")
	waitFor(t, "a restart after start", func() bool { return restartCount(s, "again") > n })
}

// TestE2ERestartingRemove: rm -f of a container that is between restarts.
func TestE2ERestartingRemove(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "crashy", "--restart", "always", "busybox", "false")
	waitFor(t, "a restart", func() bool { return restartCount(s, "crashy") >= 1 })
	s.ok(nil, "rm", "-f", "crashy")
	if got := s.run(nil, "inspect", "crashy"); got.code == 0 {
		t.Fatalf("crashy still exists: %s", got.stdout)
	}
	if r := s.run(nil, "run", "--rm", "--restart", "always", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "--restart and --rm") {
		t.Errorf("--rm with --restart: exit %d, %q", r.code, r.stderr)
	}
	if r := s.run(nil, "run", "--restart", "sometimes", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "invalid restart policy") {
		t.Errorf("bad --restart: exit %d, %q", r.code, r.stderr)
	}
}

func restartCount(s *store, ref string) int {
	f := strings.Fields(s.status(ref))
	if len(f) != 3 {
		return -1
	}
	n, _ := strconv.Atoi(f[2])
	return n
}
