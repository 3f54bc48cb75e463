package engine

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/runtime"
)

// ContainerPause freezes every process of a running container (`docker
// pause`). It reads "paused" until ContainerUnpause, or until a stop,
// kill or rm -f, which thaw it after signalling, as docker does.
func (e *Engine) ContainerPause(ctx context.Context, ref string) error {
	c, unlock, err := e.lockedContainer(ctx, ref)
	if err != nil {
		return err
	}
	defer unlock()
	return e.pauseLocked(ctx, c)
}

// pauseLocked pauses c, whose lock the caller holds.
func (e *Engine) pauseLocked(ctx context.Context, c container.Container) error {
	switch c.State.Status {
	case monitor.StatusPaused:
		return errdefs.Conflict("container %s is already paused", c.ID)
	case monitor.StatusRestarting:
		return errdefs.Conflict("container %s is restarting, wait until the container is running", c.ID)
	case monitor.StatusRunning:
	default:
		return errdefs.Conflict("container %s is not running", c.ID)
	}
	rt, err := e.runtime()
	if err != nil {
		return err
	}
	if err := rt.Pause(ctx, c.ID); err != nil && !isRuntimeState(ctx, rt, c.ID, runtime.StatePaused) {
		return fmt.Errorf("pausing container %s: %w", c.Name, err)
	}
	return e.containers.SetPaused(c.ID, c.State, true)
}

// ContainerUnpause thaws a paused container (`docker unpause`).
func (e *Engine) ContainerUnpause(ctx context.Context, ref string) error {
	c, unlock, err := e.lockedContainer(ctx, ref)
	if err != nil {
		return err
	}
	defer unlock()
	if c.State.Status != monitor.StatusPaused {
		return errdefs.Conflict("container %s is not paused", c.ID)
	}
	return e.thaw(ctx, c)
}

// thaw resumes a paused container and clears its mark. The thaw comes
// first: a container that is running again but still marked would lie
// less than one marked running but still frozen.
func (e *Engine) thaw(ctx context.Context, c container.Container) error {
	rt, err := e.runtime()
	if err != nil {
		return err
	}
	if err := rt.Resume(ctx, c.ID); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
		return fmt.Errorf("unpausing container %s: %w", c.ID, err)
	}
	return e.containers.SetPaused(c.ID, c.State, false)
}

// thawAfterSignal resumes a container that was paused when it was
// signalled, so that it can act on the signal (docker does the same for
// stop, kill and rm -f).
func (e *Engine) thawAfterSignal(ctx context.Context, c container.Container) error {
	if c.State.Status != monitor.StatusPaused {
		return nil
	}
	return e.thaw(context.WithoutCancel(ctx), c)
}

// lockedContainer finds ref and takes its lock; it returns the container
// as read under the lock.
func (e *Engine) lockedContainer(ctx context.Context, ref string) (container.Container, func(), error) {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return c, nil, err
	}
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return c, nil, err
	}
	if c, err = e.containers.Get(ctx, c.ID); err != nil {
		unlock()
		return c, nil, err
	}
	return c, unlock, nil
}

// isRuntimeState reports whether the runtime says container id is in state
// want (a pause that failed because the container was frozen already).
func isRuntimeState(ctx context.Context, rt *runtime.Runtime, id string, want specs.ContainerState) bool {
	st, err := rt.State(ctx, id)
	return err == nil && st.Status == want
}
