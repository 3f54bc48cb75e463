package cgroups

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// v2 is a cgroup of the unified hierarchy.
type v2 struct {
	root string // mountpoint of the hierarchy
	path string
	dir  string
}

// wantedControllers are enabled down to a container's cgroup when the host
// offers them; Set fails clearly on a limit whose controller is missing.
var wantedControllers = []string{"cpu", "cpuset", "memory", "pids", "io", "hugetlb"}

// NewV2 returns the Manager for path in the v2 hierarchy mounted at root.
// New picks it on pure v2 hosts; tests point root at a directory of their own.
func NewV2(root, cgroupPath string) (Manager, error) {
	if err := CheckPath(cgroupPath); err != nil {
		return nil, err
	}
	return &v2{root: root, path: cgroupPath, dir: filepath.Join(root, cgroupPath)}, nil
}

func (m *v2) Path() string { return m.path }

func (m *v2) Apply(ctx context.Context, pid int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return fmt.Errorf("creating cgroup %s: %w", m.dir, err)
	}
	if err := m.enableControllers(); err != nil {
		return err
	}
	if err := writeFile(m.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("moving process %d into cgroup: %w", pid, err)
	}
	return nil
}

// enableControllers delegates the wanted controllers from the root down to
// the cgroup's parent, one at a time: a write naming several fails as a
// whole when one of them cannot be enabled.
func (m *v2) enableControllers() error {
	level := m.root
	for _, part := range strings.Split(strings.Trim(m.path, "/"), "/") {
		avail, err := readFile(level, "cgroup.controllers")
		if err != nil {
			return err
		}
		enabled, err := readFile(level, "cgroup.subtree_control")
		if err != nil {
			return err
		}
		have := strings.Fields(enabled)
		for _, c := range wantedControllers {
			if !slices.Contains(strings.Fields(avail), c) || slices.Contains(have, c) {
				continue
			}
			if err := writeFile(level, "cgroup.subtree_control", "+"+c); err != nil {
				return fmt.Errorf("enabling cgroup controller %s in %s: %w", c, level, err)
			}
		}
		level = filepath.Join(level, part)
	}
	return nil
}

func (m *v2) Set(ctx context.Context, res *specs.LinuxResources) error {
	if res == nil {
		return ctx.Err()
	}
	writes, err := v2Writes(res)
	if err != nil {
		return err
	}
	for _, w := range writes {
		if err := writeFile(m.dir, w[0], w[1]); err != nil {
			return err
		}
	}
	return nil
}

// v2Writes translates res into (file, value) writes. Device rules are
// skipped: the v2 device controller is an eBPF program (see the package doc).
func v2Writes(res *specs.LinuxResources) ([][2]string, error) {
	var w [][2]string
	if mem := res.Memory; mem != nil {
		if mem.Limit != nil {
			w = append(w, [2]string{"memory.max", limitString(*mem.Limit)})
		}
		if mem.Swap != nil {
			swap, err := swapMax(*mem.Swap, mem.Limit)
			if err != nil {
				return nil, err
			}
			w = append(w, [2]string{"memory.swap.max", swap})
		}
		if mem.Reservation != nil {
			w = append(w, [2]string{"memory.low", limitString(*mem.Reservation)})
		}
	}
	if cpu := res.CPU; cpu != nil {
		if cpu.Shares != nil && *cpu.Shares != 0 {
			w = append(w, [2]string{"cpu.weight", strconv.FormatUint(sharesToWeight(*cpu.Shares), 10)})
		}
		if quota := cpuMax(cpu); quota != "" {
			w = append(w, [2]string{"cpu.max", quota})
		}
		if cpu.Cpus != "" {
			w = append(w, [2]string{"cpuset.cpus", cpu.Cpus})
		}
		if cpu.Mems != "" {
			w = append(w, [2]string{"cpuset.mems", cpu.Mems})
		}
	}
	if res.Pids != nil && res.Pids.Limit != nil {
		w = append(w, [2]string{"pids.max", pidsMax(*res.Pids.Limit)})
	}
	w = append(w, v2BlockIO(res.BlockIO)...)
	for k, v := range res.Unified {
		if strings.Contains(k, "/") || strings.HasPrefix(k, "cgroup.") {
			return nil, errdefs.Invalid("unified cgroup resource %q: not a controller file", k)
		}
		w = append(w, [2]string{k, v})
	}
	return w, nil
}

func limitString(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// swapMax converts the spec's memory+swap total into v2's swap-only limit.
func swapMax(swap int64, limit *int64) (string, error) {
	switch {
	case swap < 0:
		return "max", nil
	case limit == nil || *limit < 0:
		return "", errdefs.Invalid("memory+swap limit %d needs a memory limit on cgroup v2", swap)
	case swap < *limit:
		return "", errdefs.Invalid("memory+swap limit %d is below the memory limit %d", swap, *limit)
	}
	return strconv.FormatInt(swap-*limit, 10), nil
}

// sharesToWeight maps v1 shares [2, 262144] onto v2 weights [1, 10000],
// the conversion every OCI runtime uses so that both read the same.
func sharesToWeight(shares uint64) uint64 {
	shares = min(max(shares, 2), 262144)
	return 1 + (shares-2)*9999/262142
}

func cpuMax(cpu *specs.LinuxCPU) string {
	hasQuota := cpu.Quota != nil && *cpu.Quota != 0
	hasPeriod := cpu.Period != nil && *cpu.Period != 0
	if !hasQuota && !hasPeriod {
		return ""
	}
	quota, period := "max", "100000"
	if hasQuota && *cpu.Quota > 0 {
		quota = strconv.FormatInt(*cpu.Quota, 10)
	}
	if hasPeriod {
		period = strconv.FormatUint(*cpu.Period, 10)
	}
	return quota + " " + period
}

func (m *v2) Freeze(ctx context.Context) error { return m.freeze(ctx, "1") }
func (m *v2) Thaw(ctx context.Context) error   { return m.freeze(ctx, "0") }

// freeze sets cgroup.freeze and waits for cgroup.events to confirm it.
func (m *v2) freeze(ctx context.Context, state string) error {
	if err := writeFile(m.dir, "cgroup.freeze", state); err != nil {
		return err
	}
	return poll(ctx, func() (bool, error) {
		frozen, err := readKey(m.dir, "cgroup.events", "frozen")
		return err == nil && strconv.FormatUint(frozen, 10) == state, err
	})
}

func (m *v2) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	var err error
	if s.MemoryUsage, err = optUint(m.dir, "memory.current"); err != nil {
		return s, err
	}
	if s.PidsCurrent, err = optUint(m.dir, "pids.current"); err != nil {
		return s, err
	}
	usec, err := readKey(m.dir, "cpu.stat", "usage_usec")
	if err != nil {
		return s, err
	}
	s.CPUUsage = usec * 1000
	if err := m.moreStats(&s); err != nil {
		return s, err
	}
	return s, ctx.Err()
}

// optUint reads a counter whose controller may be disabled or unmounted
// (dir ""): then it is 0.
func optUint(dir, name string) (uint64, error) {
	if dir == "" {
		return 0, nil
	}
	n, err := readUint(dir, name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	return n, err
}

func (m *v2) Procs(ctx context.Context) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return readProcs(m.dir)
}

// Signal uses cgroup.kill (Linux 5.14) for SIGKILL: the kernel kills the
// whole cgroup at once, forks included. Other signals go process by
// process with the cgroup frozen.
func (m *v2) Signal(ctx context.Context, sig unix.Signal) error {
	if sig == unix.SIGKILL {
		err := writeFile(m.dir, "cgroup.kill", "1")
		if !errdefs.IsUnavailable(err) {
			return err
		}
	}
	if err := m.Freeze(ctx); err != nil {
		return err
	}
	pids, err := m.Procs(ctx)
	if err == nil {
		err = killAll(pids, sig)
	}
	return errors.Join(err, m.Thaw(context.WithoutCancel(ctx)))
}

func (m *v2) Destroy(ctx context.Context) error {
	if _, err := os.Stat(m.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := destroyProcs(ctx, m); err != nil {
		return err
	}
	return removeDir(ctx, m.dir)
}

func (m *v2) Mounts() []Mount {
	return []Mount{{Type: "cgroup2", HostPath: m.dir}}
}
