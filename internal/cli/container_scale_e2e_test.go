package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestE2EScaleRunDetachedRemove: 50 concurrent `run -d`, then 50
// concurrent `rm -f`, against one root: unique names and IDs, and nothing
// left behind.
func TestE2EScaleRunDetachedRemove(t *testing.T) {
	s := newContainerStore(t)
	const n = 50
	ids := make([]string, n)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.run(nil, "run", "-d", "busybox", "sleep", "1000")
			ids[i] = strings.TrimSpace(results[i].stdout)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || !containerIDLine.MatchString(r.stdout) {
			t.Fatalf("run %d: exit %d: %q %s", i, r.code, r.stdout, r.stderr)
		}
	}
	names := lines(s.ok(nil, "ps", "--format", "{{.Names}}"))
	if len(names) != n || len(slices.Compact(slices.Sorted(slices.Values(names)))) != n {
		t.Fatalf("ps lists %d containers, %d names unique: %v", len(names), len(slices.Compact(slices.Sorted(slices.Values(names)))), names)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != n {
		t.Fatalf("IDs are not unique: %v", ids)
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.run(nil, "rm", "-f", ids[i])
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("rm -f %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if got := s.ok(nil, "ps", "-aq"); got != "" {
		t.Fatalf("left after rm -f: %q", got)
	}
	s.assertClean(t, ids...)
}

// TestE2EReboot simulates a host reboot: every process of the containers
// and their monitors dies, the mounts go, the run state (tmpfs) is wiped.
// The containers then read as Exited (255), and start again.
func TestE2EReboot(t *testing.T) {
	s := newContainerStore(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, strings.TrimSpace(s.ok(nil, "run", "-d", "--name", fmt.Sprintf("svc%d", i), "busybox", "sleep", "1000")))
	}
	for _, id := range ids {
		// Both pids first: once the monitor is dead, the state has no pid.
		pids := []int{monitorOrInit(t, s, id, "monitor"), monitorOrInit(t, s, id, "{{.State.Pid}}")}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a killed process to go", func() bool { return syscall.Kill(pid, 0) != nil || isZombie(pid) })
		}
	}
	unmountUnder(t, s.root)
	if err := os.RemoveAll(filepath.Join(s.root, "run")); err != nil {
		t.Fatal(err)
	}
	got := lines(s.ok(nil, "ps", "-a", "--format", "{{.Names}} {{.Status}}"))
	slices.Sort(got)
	if want := []string{"svc0 Exited (255)", "svc1 Exited (255)", "svc2 Exited (255)"}; !slices.Equal(got, want) {
		t.Fatalf("ps -a after the reboot: %q, want %q", got, want)
	}
	for _, id := range ids {
		s.ok(nil, "start", id)
	}
	if got := lines(s.ok(nil, "ps", "-q")); len(got) != 3 {
		t.Fatalf("running after start: %v", got)
	}
	s.ok(nil, append([]string{"rm", "-f"}, ids...)...)
	s.assertClean(t, ids...)
}

// monitorOrInit is the pid of container id's monitor ("monitor", from its
// state.json) or of its init (an inspect template).
func monitorOrInit(t *testing.T, s *store, id, which string) int {
	t.Helper()
	if which != "monitor" {
		var pid int
		fmt.Sscan(s.inspectField(t, id, which), &pid)
		return pid
	}
	return s.monitorPid(t, id)
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			targets = append(targets, f[4])
		}
	}
	slices.SortFunc(targets, func(a, b string) int { return len(b) - len(a) })
	for _, m := range targets {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", m, err)
		}
	}
}
