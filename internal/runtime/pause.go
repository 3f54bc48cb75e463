package runtime

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// StatePaused is the status of a container whose processes are frozen. The
// OCI runtime spec names no such state; runc and crun report this one.
const StatePaused specs.ContainerState = "paused"

// Pause freezes every process of a running container (its cgroup's
// freezer) and returns once they are all stopped. The state then reads
// "paused": it is derived from the freezer, not recorded, so it cannot
// disagree with the kernel.
func (r *Runtime) Pause(ctx context.Context, id string) error {
	return r.setFrozen(ctx, id, specs.StateRunning, (cgroups.Manager).Freeze)
}

// Resume thaws a paused container.
func (r *Runtime) Resume(ctx context.Context, id string) error {
	return r.setFrozen(ctx, id, StatePaused, (cgroups.Manager).Thaw)
}

// setFrozen applies change to the cgroup of container id, which must be in
// state want; anything else is an errdefs.ErrConflict error.
func (r *Runtime) setFrozen(ctx context.Context, id string, want specs.ContainerState, change func(cgroups.Manager, context.Context) error) error {
	if err := checkID(id); err != nil {
		return err
	}
	c, err := r.open(ctx, id)
	if err != nil {
		return err
	}
	defer c.unlock()
	if st := r.status(&c.rec); st != want {
		return errdefs.Conflict("container %q is %s, not %s", id, st, want)
	}
	mgr, err := cgroups.New(c.rec.CgroupPath)
	if err != nil {
		return err
	}
	if err := change(mgr, ctx); err != nil {
		verb := "pausing"
		if want == StatePaused {
			verb = "resuming"
		}
		return fmt.Errorf("%s container %q: %w", verb, id, err)
	}
	return nil
}

// runningStatus is the status of a container whose init lives and which
// was started: "paused" while its cgroup is frozen, else "running".
func runningStatus(rec *record) specs.ContainerState {
	mgr, err := cgroups.New(rec.CgroupPath)
	if err != nil {
		return specs.StateRunning
	}
	if frozen, err := mgr.Frozen(context.Background()); err == nil && frozen {
		return StatePaused
	}
	return specs.StateRunning
}
