package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// cgroupFile reads a file of container id's v1 cgroup of controller ctrl
// (or of its v2 cgroup on a pure v2 host, by the v2 name).
func cgroupFile(t *testing.T, id, ctrl, v1name, v2name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, "strata", id, v1name))
	if os.IsNotExist(err) && v2name != "" {
		data, err = os.ReadFile(filepath.Join("/sys/fs/cgroup/strata", id, v2name))
	}
	if err != nil {
		t.Fatalf("reading the %s cgroup of %s: %v", ctrl, id, err)
	}
	return strings.TrimSpace(string(data))
}

// inspectField is `inspect -f TEMPLATE` of a container.
func (s *store) inspectField(t *testing.T, ref, tmpl string) string {
	t.Helper()
	return strings.TrimSpace(s.ok(nil, "inspect", "-f", tmpl, ref))
}

func TestE2ETopStatsRename(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "web", "--memory", "64m", "busybox", "sh", "-c", "sleep 1000 & wait"))
	top := lines(s.ok(nil, "top", "web"))
	if len(top) != 3 || strings.Join(strings.Fields(top[0]), " ") != "UID PID PPID C STIME TTY TIME CMD" {
		t.Fatalf("top:\n%s", strings.Join(top, "\n"))
	}
	if f := strings.Fields(top[2]); f[0] != "root" || f[5] != "?" || strings.Join(f[7:], " ") != "sleep 1000" || f[2] != strings.Fields(top[1])[1] {
		t.Fatalf("top: the sleep's row %q is not the child of %q", top[2], top[1])
	}
	aux := lines(s.ok(nil, "top", "web", "aux"))
	if len(aux) != 3 || !strings.HasPrefix(aux[0], "USER") || !strings.Contains(aux[0], "%MEM") {
		t.Fatalf("top aux:\n%s", strings.Join(aux, "\n"))
	}
	if r := s.run(nil, "top", "web", "-o", "pid"); r.code != 1 || !strings.Contains(r.stderr, "not supported") {
		t.Fatalf("top -o pid: exit %d: %s", r.code, r.stderr)
	}

	stats := lines(s.ok(nil, "stats", "--no-stream"))
	if len(stats) != 2 || strings.Join(strings.Fields(stats[0]), " ") != "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" {
		t.Fatalf("stats:\n%s", strings.Join(stats, "\n"))
	}
	row := strings.Fields(stats[1])
	if row[0] != id[:12] || row[1] != "web" || !strings.HasSuffix(row[2], "%") || row[5] != "64MiB" || row[len(row)-1] != "2" {
		t.Fatalf("stats row: %q", stats[1])
	}
	var js map[string]string
	if err := json.Unmarshal([]byte(s.ok(nil, "stats", "--no-stream", "--format", "json", "web")), &js); err != nil || js["Name"] != "web" || js["PIDs"] != "2" {
		t.Fatalf("stats --format json: %v %v", js, err)
	}

	s.ok(nil, "run", "-d", "--name", "other", "busybox", "sleep", "1000")
	if r := s.run(nil, "rename", "web", "other"); r.code != 1 || !strings.Contains(r.stderr, `The container name "/other" is already in use`) {
		t.Fatalf("rename to a taken name: exit %d: %s", r.code, r.stderr)
	}
	if r := s.run(nil, "rename", "web", "web"); r.code != 1 || !strings.Contains(r.stderr, "same name") {
		t.Fatalf("rename to its own name: exit %d: %s", r.code, r.stderr)
	}
	if r := s.run(nil, "rename", "nosuch", "x"); r.code != 1 || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Fatalf("rename of a missing container: exit %d: %s", r.code, r.stderr)
	}
	s.ok(nil, "rename", "web", "site")
	if got := s.inspectField(t, id, "{{.Name}}"); got != "/site" {
		t.Fatalf("renamed container is %q", got)
	}
	// The old name is free again, and the new one finds the container.
	s.ok(nil, "create", "--name", "web", "busybox")
	s.ok(nil, "kill", "site")
	s.ok(nil, "wait", "site")
	if r := s.run(nil, "top", "site"); r.code != 1 || r.stderr != "Error response from daemon: container "+id+" is not running\n" {
		t.Fatalf("top of a stopped container: exit %d: %q", r.code, r.stderr)
	}
}

// TestE2EUpdateLimits: update changes the record and, for a running
// container, its cgroup: the process really gets the new limit.
func TestE2EUpdateLimits(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--memory", "64m", "busybox", "sh", "-c",
		"trap 'x=a; while true; do x=$x$x; done' USR1; while true; do sleep 0.1; done"))
	s.ok(nil, "update", "--memory", "16m", "--memory-swap", "16m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512", id)
	if got := cgroupFile(t, id, "memory", "memory.limit_in_bytes", "memory.max"); got != strconv.Itoa(16<<20) {
		t.Fatalf("memory limit after update: %s", got)
	}
	if got := cgroupFile(t, id, "pids", "pids.max", "pids.max"); got != "50" {
		t.Fatalf("pids limit after update: %s", got)
	}
	if got := s.inspectField(t, id, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}"); got != "16777216 16777216 50 500000000 512" {
		t.Fatalf("record after update: %s", got)
	}
	// The workload grows its memory until the new limit stops it.
	s.ok(nil, "kill", "-s", "USR1", id)
	if code := strings.TrimSpace(s.ok(nil, "wait", id)); code != "137" {
		t.Fatalf("exit code after hitting the memory limit: %s", code)
	}
	if got := s.inspectField(t, id, "{{.State.OOMKilled}}"); got != "true" {
		t.Fatalf("State.OOMKilled = %s", got)
	}
	// A stopped container's record changes, and its next start uses it.
	s.ok(nil, "update", "--memory", "32m", "--memory-swap", "-1", id)
	s.ok(nil, "start", id)
	if got := cgroupFile(t, id, "memory", "memory.limit_in_bytes", "memory.max"); got != strconv.Itoa(32<<20) {
		t.Fatalf("memory limit after restart: %s", got)
	}
	if r := s.run(nil, "update", id); r.code != 1 || !strings.Contains(r.stderr, "You must provide one or more flags") {
		t.Fatalf("update without flags: exit %d: %s", r.code, r.stderr)
	}
	if r := s.run(nil, "update", "--memory", "12XB", id); r.code != 125 || !strings.Contains(r.stderr, "invalid argument \"12XB\"") {
		t.Fatalf("update --memory 12XB: exit %d: %s", r.code, r.stderr)
	}
	s.ok(nil, "rm", "-f", id)
	s.assertClean(t, id)
}

func TestE2EOOMKilled(t *testing.T) {
	s := newContainerStore(t)
	r := s.run(nil, "run", "--name", "hog", "--memory", "8m", "busybox", "sh", "-c", "x=a; while true; do x=$x$x; done")
	if r.code != 137 {
		t.Fatalf("run past its memory limit: exit %d: %s", r.code, r.stderr)
	}
	if got := s.inspectField(t, "hog", "{{.State.OOMKilled}} {{.State.ExitCode}}"); got != "true 137" {
		t.Fatalf("inspect: %s", got)
	}
	s.ok(nil, "run", "--name", "fine", "--memory", "8m", "busybox", "true")
	if got := s.inspectField(t, "fine", "{{.State.OOMKilled}}"); got != "false" {
		t.Fatalf("a container within its limit is OOMKilled=%s", got)
	}
}

// TestE2EForkBombPidsLimit: a fork bomb inside --pids-limit 100 hits the
// limit, the container ends, and the host can still fork.
func TestE2EForkBombPidsLimit(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--pids-limit", "100", "busybox", "sh", "-c",
		"bomb() { bomb | bomb & }; bomb; until [ -e /stop ]; do sleep 0.1; done"))
	waitFor(t, "the bomb to hit the limit", func() bool {
		data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/pids/strata", id, "pids.events"))
		if err != nil {
			data, _ = os.ReadFile(filepath.Join("/sys/fs/cgroup/strata", id, "pids.events"))
		}
		f := strings.Fields(string(data))
		return len(f) == 2 && f[1] != "0"
	})
	if n, _ := strconv.Atoi(cgroupFile(t, id, "pids", "pids.current", "pids.current")); n > 100 {
		t.Fatalf("%d processes in a container limited to 100", n)
	}
	if err := exec0("true"); err != nil {
		t.Fatalf("the host cannot fork while the bomb runs: %v", err)
	}
	s.ok(nil, "rm", "-f", id)
	s.assertClean(t, id)
	if err := exec0("true"); err != nil {
		t.Fatalf("the host cannot fork after the bomb: %v", err)
	}
}

// TestE2EInitReapsAndForwards: with --init a reaper is PID 1: an orphan
// that exits is reaped (without it, a workload that does not reap leaves
// a zombie), and stop's SIGTERM reaches the workload, which a workload as
// PID 1 ignores for want of a handler.
func TestE2EInitReapsAndForwards(t *testing.T) {
	s := newContainerStore(t)
	orphan := "(sleep 0.2 &); exec sleep 1000"
	bare := strings.TrimSpace(s.ok(nil, "run", "-d", "busybox", "sh", "-c", orphan))
	waitFor(t, "the orphan to become a zombie without --init", func() bool { return zombies(t, s, bare) > 0 })
	s.ok(nil, "rm", "-f", bare)

	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--init", "busybox", "sh", "-c", orphan))
	waitFor(t, "the orphan to exit", func() bool { return !strings.Contains(s.ok(nil, "top", id), "sleep 0.2") })
	if n := zombies(t, s, id); n != 0 {
		t.Fatalf("%d zombies with --init", n)
	}
	if got := s.inspectField(t, id, "{{.HostConfig.Init}}"); got != "true" {
		t.Fatalf("HostConfig.Init = %s", got)
	}
	s.ok(nil, "stop", "-t", "600", id)
	if code := s.inspectField(t, id, "{{.State.ExitCode}}"); code != "143" {
		t.Fatalf("exit code after stop: %s, want 143 (SIGTERM forwarded, not SIGKILL)", code)
	}
	s.ok(nil, "rm", id)
	s.assertClean(t, id, bare)
}

// zombies counts the zombie children of a container's PID 1 (a zombie
// has left its cgroup, so top does not list it).
func zombies(t *testing.T, s *store, id string) int {
	t.Helper()
	init := s.inspectField(t, id, "{{.State.Pid}}")
	n := 0
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		data, err := os.ReadFile(p)
		i := strings.LastIndexByte(string(data), ')')
		if err != nil || i < 0 {
			continue
		}
		if f := strings.Fields(string(data[i+1:])); len(f) > 1 && f[0] == "Z" && f[1] == init {
			n++
		}
	}
	return n
}

func exec0(name string) error {
	pid, err := syscall.ForkExec("/bin/"+name, []string{name}, nil)
	if err != nil {
		return err
	}
	var ws syscall.WaitStatus
	_, err = syscall.Wait4(pid, &ws, 0, nil)
	return err
}
