// Package cgroups puts a container's processes in a control group, sets its
// limits, freezes, measures and removes it.
//
// It owns one directory per container in each cgroup hierarchy the host
// mounts, named by the container's cgroup path (the runtime's default is
// /strata/<id>):
//
//	cgroup v1 (and hybrid):  <mountpoint of each v1 hierarchy>/<path>/
//	                         e.g. /sys/fs/cgroup/memory/strata/<id>/memory.limit_in_bytes
//	                         plus <v2 mountpoint>/<path>/ when a hybrid host also mounts v2
//	cgroup v2:               <v2 mountpoint>/<path>/ (memory.max, cpu.max, pids.max, ...)
//
// Invariants: a Manager never writes outside its own directories except to
// enable controllers in its ancestors' cgroup.subtree_control (v2) and to
// copy cpuset.cpus/mems down to new ancestors (v1, where an empty cpuset
// refuses tasks); the path is absolute, clean and never the root. Warm
// (warm.go) writes only to the calling process's own cgroup.procs, moving
// it where it already is. The host
// kind is detected from /proc/self/mountinfo, read once per process
// (Hierarchies keeps the first successful read): any v1 hierarchy means v1
// controllers are used ("hybrid" hosts mount v2 beside them, often without
// controllers); only a host with nothing but v2 gets the v2 implementation.
// The v2 device controller needs eBPF and is not implemented: on v2,
// device rules in the spec are ignored. WithDefaultDeviceRules (devices.go)
// completes a spec's v1 rules as runc does.
//
// Set is also how a running container's limits change (`update`): every
// write is ordered so the kernel accepts it (memory+swap raised before
// memory, lowered after). Stats carries what `stats` and the OOM record
// need: limits, page cache, block I/O bytes and the OOM-kill counter
// (memory.oom_control's oom_kill on v1, memory.events' on v2; failcnt counts
// every time the limit was reached, not kills, so it is not used). A block
// I/O weight goes to blkio.weight or BFQ's blkio.bfq.weight (v1; CFQ is gone
// since Linux 5.0), io.weight on v2; a v1 swap limit is dropped where the
// kernel has no swap accounting, as docker drops it.
package cgroups

import (
	"context"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Manager is one container's cgroup. Its lifecycle: Apply the init process
// (which creates the directories) and Set the limits before the container
// runs its workload; Freeze/Thaw, Stats, Procs and Signal while it runs;
// Destroy at the end, which kills what is left and removes the directories.
type Manager interface {
	// Path is the cgroup path, the same in every hierarchy ("/strata/<id>").
	Path() string
	// Apply creates the cgroup where missing and moves the process pid
	// (with all its threads) into it.
	Apply(ctx context.Context, pid int) error
	// Set writes the limits of res; nil fields are left as they are.
	Set(ctx context.Context, res *specs.LinuxResources) error
	// Freeze stops every process in the cgroup and returns once they are.
	Freeze(ctx context.Context) error
	// Thaw resumes the processes Freeze stopped.
	Thaw(ctx context.Context) error
	// Frozen reports whether the cgroup is frozen (settled, not freezing).
	Frozen(ctx context.Context) (bool, error)
	// Stats reads the current usage.
	Stats(ctx context.Context) (Stats, error)
	// Procs lists the processes in the cgroup (host pids).
	Procs(ctx context.Context) ([]int, error)
	// Signal sends sig to every process in the cgroup; the cgroup is
	// frozen meanwhile so that no process escapes by forking.
	Signal(ctx context.Context, sig unix.Signal) error
	// Destroy kills the processes left and removes the cgroup; a cgroup
	// that does not exist is already destroyed.
	Destroy(ctx context.Context) error
	// Mounts describes how a container sees its cgroup at /sys/fs/cgroup.
	Mounts() []Mount
}

// Stats is the usage of a cgroup.
type Stats struct {
	MemoryUsage uint64 // bytes, page cache included
	PidsCurrent uint64 // processes and threads
	CPUUsage    uint64 // nanoseconds of CPU time, all CPUs
	MemoryLimit uint64 // bytes; 0 when unlimited
	MemoryCache uint64 // inactive page cache, which docker leaves out of the usage it shows
	PidsLimit   uint64 // 0 when unlimited
	BlkioRead   uint64 // bytes read from block devices
	BlkioWrite  uint64 // bytes written to block devices
	OOMKills    uint64 // processes the kernel's OOM killer killed for the memory limit
}

// Mount is one file system a container mounts under its /sys/fs/cgroup.
type Mount struct {
	// Dir is the directory under /sys/fs/cgroup ("memory", "cpu,cpuacct",
	// "unified"), "" for a pure v2 host whose hierarchy is /sys/fs/cgroup.
	Dir string `json:"dir"`
	// Type is "cgroup" (v1) or "cgroup2".
	Type string `json:"type"`
	// Data is the mount data naming the v1 hierarchy ("memory",
	// "name=systemd"), empty for v2.
	Data string `json:"data,omitempty"`
	// HostPath is the container's cgroup directory on the host, which is
	// bind-mounted when the container has no cgroup namespace of its own.
	HostPath string `json:"hostPath"`
	// Links are extra names for Dir (cpu and cpuacct for "cpu,cpuacct").
	Links []string `json:"links,omitempty"`
}

// New returns the Manager for path on this host: v1 when the host mounts
// any v1 hierarchy, v2 otherwise.
func New(cgroupPath string) (Manager, error) {
	if err := CheckPath(cgroupPath); err != nil {
		return nil, err
	}
	hs, err := Hierarchies()
	if err != nil {
		return nil, err
	}
	var v1 []Hierarchy
	unified := ""
	for _, h := range hs {
		if h.Version == 2 {
			unified = h.Mountpoint
		} else {
			v1 = append(v1, h)
		}
	}
	if len(v1) > 0 {
		return newV1(v1, unified, cgroupPath), nil
	}
	if unified == "" {
		return nil, errdefs.Unavailable("no cgroup file system is mounted")
	}
	return NewV2(unified, cgroupPath)
}

// CheckPath returns an error of class ErrInvalid unless p is a cgroup path
// this package accepts: absolute, clean and not the root.
func CheckPath(p string) error {
	switch {
	case strings.Contains(p, ":"):
		return errdefs.Unavailable("cgroup path %q: the systemd cgroup driver is not supported", p)
	case !path.IsAbs(p) || path.Clean(p) != p:
		return errdefs.Invalid("cgroup path %q: must be absolute and clean", p)
	case p == "/":
		return errdefs.Invalid("cgroup path %q: a container cannot own the root cgroup", p)
	}
	return nil
}
