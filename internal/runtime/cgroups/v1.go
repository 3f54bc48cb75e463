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

// v1 is a cgroup in every v1 hierarchy of the host (and in the v2 one of a
// hybrid host, which only tracks membership: its controllers are in use by v1).
type v1 struct {
	path        string
	hierarchies []Hierarchy
	unified     string            // v2 mountpoint of a hybrid host, or ""
	dirs        map[string]string // controller ("memory", "name=systemd") → cgroup dir
}

func newV1(hs []Hierarchy, unified, path string) *v1 {
	m := &v1{path: path, hierarchies: hs, unified: unified, dirs: map[string]string{}}
	for _, h := range hs {
		for _, c := range h.Controllers {
			m.dirs[c] = filepath.Join(h.Mountpoint, path)
		}
	}
	return m
}

func (m *v1) Path() string { return m.path }

// allDirs lists the cgroup's directory in each hierarchy.
func (m *v1) allDirs() []string {
	var dirs []string
	for _, h := range m.hierarchies {
		dirs = append(dirs, filepath.Join(h.Mountpoint, m.path))
	}
	if m.unified != "" {
		dirs = append(dirs, filepath.Join(m.unified, m.path))
	}
	return dirs
}

func (m *v1) Apply(ctx context.Context, pid int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, h := range m.hierarchies {
		if err := m.create(h); err != nil {
			return err
		}
	}
	for _, dir := range m.allDirs() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("moving process %d into cgroup: %w", pid, err)
		}
	}
	return nil
}

// create makes the cgroup's directory in h. A new cpuset cgroup starts with
// no CPUs and no memory nodes and refuses tasks, so each new level of the
// path inherits its parent's.
func (m *v1) create(h Hierarchy) error {
	dir := filepath.Join(h.Mountpoint, m.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating cgroup %s: %w", dir, err)
	}
	if !slices.Contains(h.Controllers, "cpuset") {
		return nil
	}
	parent := h.Mountpoint
	for _, part := range strings.Split(strings.Trim(m.path, "/"), "/") {
		cur := filepath.Join(parent, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := readFile(cur, f); err != nil || v != "" {
				continue
			}
			pv, err := readFile(parent, f)
			if err != nil {
				return err
			}
			if err := writeFile(cur, f, pv); err != nil {
				return err
			}
		}
		parent = cur
	}
	return nil
}

func (m *v1) Set(ctx context.Context, res *specs.LinuxResources) error {
	if res == nil {
		return ctx.Err()
	}
	if len(res.Unified) > 0 {
		return errdefs.Invalid("unified cgroup resources %v need cgroup v2", res.Unified)
	}
	if err := m.setMemory(res.Memory); err != nil {
		return err
	}
	if err := m.setCPU(res.CPU); err != nil {
		return err
	}
	if res.Pids != nil && res.Pids.Limit != nil {
		if err := m.write("pids", "pids.max", pidsMax(*res.Pids.Limit)); err != nil {
			return err
		}
	}
	if err := m.setBlockIO(res.BlockIO); err != nil {
		return err
	}
	return m.setDevices(res.Devices)
}

// write writes a file of controller ctrl, which must be mounted.
func (m *v1) write(ctrl, name, value string) error {
	dir, ok := m.dirs[ctrl]
	if !ok {
		return errdefs.Unavailable("cgroup v1 controller %s is not mounted", ctrl)
	}
	return writeFile(dir, name, value)
}

func (m *v1) setMemory(mem *specs.LinuxMemory) error {
	if mem == nil {
		return nil
	}
	var writes [][2]string
	limit, swap := "", ""
	if mem.Limit != nil {
		limit = strconv.FormatInt(*mem.Limit, 10)
	}
	if mem.Swap != nil {
		swap = strconv.FormatInt(*mem.Swap, 10)
	}
	// The kernel keeps memory+swap >= memory at every step, so when both
	// change the order depends on whether the total grows.
	switch {
	case limit != "" && swap != "" && m.swapFirst(*mem.Swap):
		writes = append(writes, [2]string{"memory.memsw.limit_in_bytes", swap}, [2]string{"memory.limit_in_bytes", limit})
	default:
		if limit != "" {
			writes = append(writes, [2]string{"memory.limit_in_bytes", limit})
		}
		if swap != "" {
			writes = append(writes, [2]string{"memory.memsw.limit_in_bytes", swap})
		}
	}
	if mem.Reservation != nil {
		writes = append(writes, [2]string{"memory.soft_limit_in_bytes", strconv.FormatInt(*mem.Reservation, 10)})
	}
	if mem.Swappiness != nil {
		writes = append(writes, [2]string{"memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10)})
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		writes = append(writes, [2]string{"memory.oom_control", "1"})
	}
	for _, w := range writes {
		if w[0] == "memory.memsw.limit_in_bytes" && !m.hasSwapAccounting() {
			continue // docker, too, drops the swap limit where the kernel cannot account swap
		}
		if err := m.write("memory", w[0], w[1]); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1) hasSwapAccounting() bool {
	_, err := os.Stat(filepath.Join(m.dirs["memory"], "memory.memsw.limit_in_bytes"))
	return err == nil
}

// swapFirst reports whether memory+swap must be raised before memory.
func (m *v1) swapFirst(swap int64) bool {
	if swap == -1 {
		return true
	}
	cur, err := readUint(m.dirs["memory"], "memory.limit_in_bytes")
	return err == nil && cur < uint64(swap)
}

func (m *v1) setCPU(cpu *specs.LinuxCPU) error {
	if cpu == nil {
		return nil
	}
	var writes [][3]string
	if cpu.Shares != nil && *cpu.Shares != 0 {
		writes = append(writes, [3]string{"cpu", "cpu.shares", strconv.FormatUint(*cpu.Shares, 10)})
	}
	// The period first: a quota is checked against the period in force.
	if cpu.Period != nil && *cpu.Period != 0 {
		writes = append(writes, [3]string{"cpu", "cpu.cfs_period_us", strconv.FormatUint(*cpu.Period, 10)})
	}
	if cpu.Quota != nil && *cpu.Quota != 0 {
		writes = append(writes, [3]string{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(*cpu.Quota, 10)})
	}
	if cpu.Cpus != "" {
		writes = append(writes, [3]string{"cpuset", "cpuset.cpus", cpu.Cpus})
	}
	if cpu.Mems != "" {
		writes = append(writes, [3]string{"cpuset", "cpuset.mems", cpu.Mems})
	}
	for _, w := range writes {
		if err := m.write(w[0], w[1], w[2]); err != nil {
			return err
		}
	}
	return nil
}

// setDevices replays the allow list: rules apply in order, as the spec says.
func (m *v1) setDevices(rules []specs.LinuxDeviceCgroup) error {
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		if err := m.write("devices", file, deviceRule(r)); err != nil {
			return err
		}
	}
	return nil
}

// deviceRule formats r as the v1 devices controller reads it ("c 1:3 rwm").
func deviceRule(r specs.LinuxDeviceCgroup) string {
	typ, major, minor, access := r.Type, "*", "*", r.Access
	if typ == "" {
		typ = "a"
	}
	if r.Major != nil && *r.Major >= 0 {
		major = strconv.FormatInt(*r.Major, 10)
	}
	if r.Minor != nil && *r.Minor >= 0 {
		minor = strconv.FormatInt(*r.Minor, 10)
	}
	if access == "" {
		access = "rwm"
	}
	return fmt.Sprintf("%s %s:%s %s", typ, major, minor, access)
}

func (m *v1) Freeze(ctx context.Context) error { return m.freeze(ctx, "FROZEN") }
func (m *v1) Thaw(ctx context.Context) error   { return m.freeze(ctx, "THAWED") }

// freeze writes state and waits until the freezer reports it: FREEZING
// lasts until every task has stopped.
func (m *v1) freeze(ctx context.Context, state string) error {
	if err := m.write("freezer", "freezer.state", state); err != nil {
		return err
	}
	return poll(ctx, func() (bool, error) {
		cur, err := readFile(m.dirs["freezer"], "freezer.state")
		return cur == state, err
	})
}

func (m *v1) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	var err error
	if s.MemoryUsage, err = optUint(m.dirs["memory"], "memory.usage_in_bytes"); err != nil {
		return s, err
	}
	if s.PidsCurrent, err = optUint(m.dirs["pids"], "pids.current"); err != nil {
		return s, err
	}
	if s.CPUUsage, err = optUint(m.dirs["cpuacct"], "cpuacct.usage"); err != nil {
		return s, err
	}
	if err := m.moreStats(&s); err != nil {
		return s, err
	}
	return s, ctx.Err()
}

// Procs reads one hierarchy: every process is in every hierarchy.
func (m *v1) Procs(ctx context.Context) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, c := range []string{"freezer", "pids", "memory"} {
		if dir, ok := m.dirs[c]; ok {
			return readProcs(dir)
		}
	}
	return readProcs(m.allDirs()[0])
}

func (m *v1) Signal(ctx context.Context, sig unix.Signal) error {
	_, freezer := m.dirs["freezer"]
	if freezer {
		if err := m.Freeze(ctx); err != nil {
			return err
		}
	}
	pids, err := m.Procs(ctx)
	if err == nil {
		err = killAll(pids, sig)
	}
	if freezer {
		// Thaw with a fresh context: a cancelled ctx must not leave the
		// container frozen.
		err = errors.Join(err, m.Thaw(context.WithoutCancel(ctx)))
	}
	return err
}

func (m *v1) Destroy(ctx context.Context) error {
	if err := destroyProcs(ctx, m); err != nil {
		return err
	}
	for _, dir := range m.allDirs() {
		if err := removeDir(ctx, dir); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1) Mounts() []Mount {
	var ms []Mount
	for _, h := range m.hierarchies {
		mt := Mount{
			Dir: filepath.Base(h.Mountpoint), Type: "cgroup",
			Data: strings.Join(h.Controllers, ","), HostPath: filepath.Join(h.Mountpoint, m.path),
		}
		if len(h.Controllers) > 1 {
			for _, c := range h.Controllers {
				if c = strings.TrimPrefix(c, "name="); c != mt.Dir {
					mt.Links = append(mt.Links, c)
				}
			}
		}
		ms = append(ms, mt)
	}
	if m.unified != "" {
		ms = append(ms, Mount{Dir: filepath.Base(m.unified), Type: "cgroup2", HostPath: filepath.Join(m.unified, m.path)})
	}
	return ms
}

// destroyProcs kills every process of m until none is left.
func destroyProcs(ctx context.Context, m Manager) error {
	return poll(ctx, func() (bool, error) {
		pids, err := m.Procs(ctx)
		if err != nil || len(pids) == 0 {
			return true, err
		}
		return false, m.Signal(ctx, unix.SIGKILL)
	})
}

func pidsMax(limit int64) string {
	if limit <= 0 {
		return "max"
	}
	return strconv.FormatInt(limit, 10)
}
