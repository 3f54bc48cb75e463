package cgroups

import (
	"context"
	"errors"
	"os"
)

// Freezing is done by Freeze and Thaw (v1.go, v2.go), which return once the
// kernel reports the new state: v1's freezer.state passes through FREEZING
// until every task has stopped, v2's cgroup.events says "frozen 1" only
// then. Frozen reads the settled state, which is what a container's
// "paused" status is derived from: it is the kernel's word, so no record
// of it can go stale when a process outside strata thaws the cgroup.

// Frozen reports whether every process of the cgroup is frozen. A v1
// cgroup still FREEZING is not; a cgroup that does not exist is not.
func (m *v1) Frozen(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	dir, ok := m.dirs["freezer"]
	if !ok {
		return false, nil
	}
	st, err := readFile(dir, "freezer.state")
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return st == "FROZEN", err
}

// Frozen reports whether cgroup.events says the cgroup is frozen.
func (m *v2) Frozen(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	frozen, err := readKey(m.dir, "cgroup.events", "frozen")
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return frozen == 1, err
}
