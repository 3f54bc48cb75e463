package runtime

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// Update changes the resource limits of container id while it runs:
// every non-nil field of res is written to its cgroup (as `runc update`
// does). The spec in the bundle is left alone; the caller records the
// new limits where it keeps the container's configuration.
func (r *Runtime) Update(ctx context.Context, id string, res *specs.LinuxResources) error {
	mgr, err := r.cgroup(id)
	if err != nil {
		return err
	}
	if err := mgr.Set(ctx, res); err != nil {
		return fmt.Errorf("updating container %q: %w", id, err)
	}
	return nil
}

// Processes lists the host pids of every process in container id's
// cgroup: the init, what it started, and what an exec runs there.
func (r *Runtime) Processes(ctx context.Context, id string) ([]int, error) {
	mgr, err := r.cgroup(id)
	if err != nil {
		return nil, err
	}
	pids, err := mgr.Procs(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing processes of container %q: %w", id, err)
	}
	return pids, nil
}

// OOMKilled reports whether the kernel's OOM killer killed a process of
// container id for its memory limit. It reads the cgroup, so it must be
// asked before Delete removes it (the monitor asks right after Wait).
func (r *Runtime) OOMKilled(ctx context.Context, id string) (bool, error) {
	m, err := r.cgroup(id)
	if err != nil {
		return false, err
	}
	return cgroups.OOMKills(m) > 0, ctx.Err()
}

func (r *Runtime) cgroup(id string) (cgroups.Manager, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	rec, err := readRecord(r.dir(id), id)
	if err != nil {
		return nil, err
	}
	return cgroups.New(rec.CgroupPath)
}
