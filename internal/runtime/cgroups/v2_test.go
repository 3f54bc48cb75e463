package cgroups

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestV2Writes(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	tests := []struct {
		name string
		res  specs.LinuxResources
		want [][2]string
		err  error
	}{
		{"memory and swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(300)}},
			[][2]string{{"memory.max", "100"}, {"memory.swap.max", "200"}}, nil},
		{"unlimited", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)}},
			[][2]string{{"memory.max", "max"}, {"memory.swap.max", "max"}}, nil},
		{"swap below memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(300), Swap: i64(100)}},
			nil, errdefs.ErrInvalid},
		{"swap without memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(100)}},
			nil, errdefs.ErrInvalid},
		{"cpu", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1024), Quota: i64(50000), Period: u64(100000), Cpus: "0-1"}},
			[][2]string{{"cpu.weight", "39"}, {"cpu.max", "50000 100000"}, {"cpuset.cpus", "0-1"}}, nil},
		{"period only", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(20000)}},
			[][2]string{{"cpu.max", "max 20000"}}, nil},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}},
			[][2]string{{"pids.max", "max"}}, nil},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "5000"}},
			[][2]string{{"memory.high", "5000"}}, nil},
		{"unified escape", specs.LinuxResources{Unified: map[string]string{"../x": "1"}},
			nil, errdefs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v2Writes(&tc.res)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want class %v", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// fakeV2 lays out the files a v2 hierarchy would have at root for path, so
// that the v2 Manager can be tested where no real v2 controller exists.
func fakeV2(t *testing.T, path string) string {
	root := t.TempDir()
	dir := root
	for _, part := range append([]string{""}, strings.Split(strings.Trim(path, "/"), "/")...) {
		dir = filepath.Join(dir, part)
		mkdirAll(t, dir)
		writeTestFile(t, dir, "cgroup.controllers", "cpuset cpu io memory pids")
		writeTestFile(t, dir, "cgroup.subtree_control", "")
	}
	for _, f := range []string{"cgroup.procs", "memory.max", "memory.swap.max", "cpu.weight", "cpu.max",
		"pids.max", "cgroup.freeze"} {
		writeTestFile(t, dir, f, "")
	}
	writeTestFile(t, dir, "memory.current", "4096\n")
	writeTestFile(t, dir, "pids.current", "1\n")
	writeTestFile(t, dir, "cpu.stat", "usage_usec 1500\nuser_usec 1000\n")
	return root
}

func TestV2OnFakeHierarchy(t *testing.T) {
	ctx := context.Background()
	path := "/strata/fake"
	root := fakeV2(t, path)
	m, err := NewV2(root, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(ctx, 4242); err != nil {
		t.Fatal(err)
	}
	limit, pids := int64(1<<20), int64(3)
	if err := m.Set(ctx, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		Pids:   &specs.LinuxPids{Limit: &pids},
	}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, path)
	for _, f := range []struct{ dir, file, want string }{
		{dir, "cgroup.procs", "4242"},
		{dir, "memory.max", "1048576"},
		{dir, "pids.max", "3"},
		// Controllers are enabled one write at a time; the last one stays.
		{root, "cgroup.subtree_control", "+io"},
		{filepath.Join(root, "strata"), "cgroup.subtree_control", "+io"},
	} {
		if got, _ := readFile(f.dir, f.file); got != f.want {
			t.Errorf("%s/%s = %q, want %q", f.dir, f.file, got, f.want)
		}
	}
	writeTestFile(t, dir, "cgroup.events", "populated 1\nfrozen 1\n")
	if err := m.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := readFile(dir, "cgroup.freeze"); got != "1" {
		t.Errorf("cgroup.freeze = %q after Freeze", got)
	}
	stats, err := m.Stats(ctx)
	if want := (Stats{MemoryUsage: 4096, PidsCurrent: 1, CPUUsage: 1500000, MemoryLimit: 1 << 20, PidsLimit: 3}); err != nil || stats != want {
		t.Errorf("Stats = %+v, %v; want %+v", stats, err, want)
	}
	if err := m.Set(ctx, &specs.LinuxResources{HugepageLimits: nil, Unified: map[string]string{"io.max": "x"}}); !errdefs.IsUnavailable(err) {
		t.Errorf("writing a missing controller file: %v, want class unavailable", err)
	}
}

// TestV2Real uses the host's real v2 hierarchy: the pure one, or the one a
// hybrid host mounts beside v1 (where freezing and killing work without any
// controller, since they are core v2 features).
func TestV2Real(t *testing.T) {
	requireRoot(t)
	unified := ""
	for _, h := range mustHierarchies(t) {
		if h.Version == 2 {
			unified = h.Mountpoint
		}
	}
	if unified == "" {
		t.Skip("needs a cgroup v2 mount")
	}
	ctx := context.Background()
	m, err := NewV2(unified, testPath(t))
	if err != nil {
		t.Fatal(err)
	}
	cmd := startSleeper(t)
	cleanupManager(t, m)
	if err := m.Apply(ctx, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if !inCgroup(t, cmd.Process.Pid, "", m.Path()) {
		t.Fatalf("process not in v2 cgroup %s", m.Path())
	}
	if err := m.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if frozen, err := readKey(filepath.Join(unified, m.Path()), "cgroup.events", "frozen"); err != nil || frozen != 1 {
		t.Errorf("cgroup.events frozen = %d (%v) after Freeze", frozen, err)
	}
	if err := m.Thaw(ctx); err != nil {
		t.Fatal(err)
	}
	if avail, _ := readFile(unified, "cgroup.controllers"); slices.Contains(strings.Fields(avail), "pids") {
		limit := int64(5)
		if err := m.Set(ctx, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := readFile(filepath.Join(unified, m.Path()), "pids.max"); got != "5" {
			t.Errorf("pids.max = %q, want 5", got)
		}
	} else {
		t.Log("v2 limits not checked: the pids controller is not available in this v2 hierarchy")
	}
	if err := m.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Fatalf("sleeper ended with %v, want killed", cmd.ProcessState)
	}
	if _, err := os.Stat(filepath.Join(unified, m.Path())); !os.IsNotExist(err) {
		t.Fatalf("cgroup still exists after Destroy: %v", err)
	}
}

func mkdirAll(t *testing.T, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeTestFile(t *testing.T, dir, name, content string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
