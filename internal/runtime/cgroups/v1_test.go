package cgroups

import (
	"context"
	"os"
	"slices"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// requireV1 skips unless the host mounts the v1 controllers this test uses.
func requireV1(t *testing.T) *v1 {
	t.Helper()
	requireRoot(t)
	m, err := New(testPath(t))
	if err != nil {
		t.Fatal(err)
	}
	mv1, ok := m.(*v1)
	if !ok {
		t.Skip("needs cgroup v1 (this host is pure cgroup v2)")
	}
	for _, c := range []string{"memory", "pids", "cpu", "cpuset", "freezer", "devices"} {
		if mv1.dirs[c] == "" {
			t.Skipf("needs the cgroup v1 %s controller mounted", c)
		}
	}
	return mv1
}

func TestV1LimitsFreezeDestroy(t *testing.T) {
	m := requireV1(t)
	ctx := context.Background()
	cmd := startSleeper(t)
	cleanupManager(t, m)
	if err := m.Apply(ctx, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "pids", "cpuset", "freezer"} {
		if !inCgroup(t, cmd.Process.Pid, c, m.Path()) {
			t.Errorf("process not in %s cgroup %s", c, m.Path())
		}
	}
	limit, swap, pids := int64(64<<20), int64(128<<20), int64(7)
	shares, quota, period := uint64(512), int64(50000), uint64(100000)
	major, minor := int64(1), int64(3)
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap},
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0"},
		Pids:   &specs.LinuxPids{Limit: &pids},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rwm"},
		},
	}
	if err := m.Set(ctx, res); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"pids", "pids.max", "7"},
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpuset", "cpuset.cpus", "0"},
		{"devices", "devices.list", "c 1:3 rwm"},
	} {
		if got, err := readFile(m.dirs[f.ctrl], f.file); err != nil || got != f.want {
			t.Errorf("%s = %q (%v), want %q", f.file, got, err, f.want)
		}
	}
	stats, err := m.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Memory already charged elsewhere does not move with a process, so
	// only the pid count is certain here.
	if stats.PidsCurrent != 1 {
		t.Errorf("stats %+v: want 1 pid", stats)
	}

	if err := m.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := readFile(m.dirs["freezer"], "freezer.state"); st != "FROZEN" {
		t.Errorf("freezer.state %q after Freeze", st)
	}
	if err := m.Thaw(ctx); err != nil {
		t.Fatal(err)
	}
	procs, err := m.Procs(ctx)
	if err != nil || !slices.Equal(procs, []int{cmd.Process.Pid}) {
		t.Fatalf("Procs = %v, %v; want [%d]", procs, err, cmd.Process.Pid)
	}

	// Destroy with the process still running: it must be killed first.
	if err := m.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Fatalf("sleeper ended with %v, want killed by SIGKILL", cmd.ProcessState)
	}
	for _, dir := range m.allDirs() {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("cgroup %s still exists after Destroy (%v)", dir, err)
		}
	}
	if err := m.Destroy(ctx); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestV1SignalReachesEveryProcess(t *testing.T) {
	m := requireV1(t)
	ctx := context.Background()
	a, b := startSleeper(t), startSleeper(t)
	cleanupManager(t, m)
	for _, c := range []int{a.Process.Pid, b.Process.Pid} {
		if err := m.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Signal(ctx, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Wait() error }{a, b} {
		if err := c.Wait(); err == nil {
			t.Error("a sleeper survived SIGTERM to its cgroup")
		}
	}
	if st, _ := readFile(m.dirs["freezer"], "freezer.state"); st != "THAWED" {
		t.Errorf("cgroup left %s after Signal", st)
	}
}
