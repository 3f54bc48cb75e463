package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/mount"
	"github.com/strata-containers/strata/internal/runtime"
)

// DefaultStopTimeout is how long stop waits after SIGTERM before SIGKILL.
const DefaultStopTimeout = 10 * time.Second

func (e *Engine) runtime() (*runtime.Runtime, error) { return runtime.New(e.runtimeRoot()) }

// ContainerStop stops a running container: SIGTERM, then SIGKILL after
// timeout (negative: wait for ever). A container that is not running is
// left as it is. It returns once the container's monitor is gone.
func (e *Engine) ContainerStop(ctx context.Context, ref string, timeout time.Duration) error {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	if !c.Running() {
		return nil
	}
	rt, err := e.runtime()
	if err != nil {
		return err
	}
	sig, timeout := stopPlan(c, timeout)
	if err := monitor.MarkStopped(e.bundle(c.ID)); err != nil {
		return fmt.Errorf("stopping container %s: %w", ref, err)
	}
	if err := rt.Kill(ctx, c.ID, sig, false); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stopping container %s: %w", ref, err)
	}
	if err := e.thawAfterSignal(ctx, c); err != nil {
		return err
	}
	if waitMonitor(ctx, c.State, timeout) {
		return nil
	}
	if err := rt.Kill(ctx, c.ID, unix.SIGKILL, true); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
		return fmt.Errorf("killing container %s: %w", ref, err)
	}
	if !waitMonitor(ctx, c.State, -1) {
		return ctx.Err()
	}
	return nil
}

// waitMonitor waits for the monitor st names to exit, up to timeout
// (negative: no limit); it reports whether the monitor is gone. A pidfd
// is checked against the recorded start time, so a reused pid is never
// waited for.
func waitMonitor(ctx context.Context, st monitor.State, timeout time.Duration) bool {
	fd, err := unix.PidfdOpen(st.MonitorPid, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	if !st.MonitorAlive() {
		return true
	}
	deadline := time.Now().Add(timeout)
	for {
		// Short slices: poll(2) cannot watch ctx.
		wait := 100 * time.Millisecond
		if timeout >= 0 {
			wait = min(wait, time.Until(deadline))
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(max(wait, 0)/time.Millisecond))
		if n > 0 || (err != nil && !errors.Is(err, unix.EINTR)) {
			return true
		}
		if ctx.Err() != nil || (timeout >= 0 && !time.Now().Before(deadline)) {
			return false
		}
	}
}

// ContainerKill sends a signal (a name such as "KILL" or "SIGHUP", or a
// number; "" is SIGKILL) to a running container.
func (e *Engine) ContainerKill(ctx context.Context, ref, signal string) error {
	sig, err := parseSignal(signal)
	if err != nil {
		return err
	}
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	if !c.Running() {
		return errdefs.Conflict("cannot kill container: %s: container %s is not running", ref, c.ID)
	}
	rt, err := e.runtime()
	if err != nil {
		return err
	}
	if sig == unix.SIGKILL || sig == unix.SIGTERM {
		if err := monitor.MarkStopped(e.bundle(c.ID)); err != nil {
			return fmt.Errorf("cannot kill container: %s: %w", ref, err)
		}
	}
	if err := rt.Kill(ctx, c.ID, sig, false); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", ref, err)
	}
	return e.thawAfterSignal(ctx, c)
}

func parseSignal(s string) (unix.Signal, error) {
	if s == "" {
		return unix.SIGKILL, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, errdefs.Invalid("invalid signal: %s", s)
}

// ContainerRemove removes a container: its record, log, writable layer
// and whatever of its runtime state is left. A running container needs
// force (which kills it), or it is docker's conflict.
func (e *Engine) ContainerRemove(ctx context.Context, ref string, force bool) error {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	if c.Running() {
		if !force && c.State.Status == monitor.StatusPaused {
			return errdefs.Conflict("cannot remove container \"/%s\": container is paused and must be unpaused first", c.Name)
		}
		if !force {
			return errdefs.Conflict("cannot remove container \"/%s\": container is running: stop the container before removing or force remove", c.Name)
		}
		// Not under the container's lock: the monitor of an --rm
		// container takes it to remove the container itself.
		if err := e.ContainerStop(ctx, c.ID, 0); err != nil {
			return err
		}
	}
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = e.containers.Get(ctx, c.ID); errdefs.IsNotFound(err) {
		return nil // its monitor's cleanup removed it meanwhile
	} else if err != nil {
		return err
	}
	if c.Running() {
		return errdefs.Conflict("cannot remove container \"/%s\": container is running: stop the container before removing or force remove", c.Name)
	}
	if err := e.teardown(ctx, c.ID); err != nil {
		return err
	}
	return e.containers.Remove(ctx, c.ID)
}

// removeExited removes c, an --rm container whose monitor reported its
// end to this launcher, and its anonymous volumes: ContainerRemoveWithVolumes
// without the two loads of a record the launcher holds already. Under the
// lock the record is read once more, since a `start` may have run it again.
func (e *Engine) removeExited(ctx context.Context, c container.Container) error {
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := e.containers.Get(ctx, c.ID)
	switch {
	case errdefs.IsNotFound(err):
		return nil // removed meanwhile by an rm -f
	case err != nil:
		return err
	case cur.Running():
		return errdefs.Conflict("cannot remove container \"/%s\": container is running: stop the container before removing or force remove", c.Name)
	}
	if err := e.teardown(ctx, c.ID); err != nil {
		return err
	}
	if err := e.containers.Remove(ctx, c.ID); err != nil {
		return err
	}
	return e.removeAnonymousVolumes(ctx, c)
}

// teardown frees what a container holds outside its record: the runtime's
// container (killing what a dead monitor left running), the rootfs mount,
// the bundle and the writable layer.
func (e *Engine) teardown(ctx context.Context, id string) error {
	rt, err := e.runtime()
	if err != nil {
		return err
	}
	if err := rt.Delete(ctx, id, true); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %s: %w", id, err)
	}
	// With no process left, the network (netlink, nftables, IPAM files)
	// and the files (mounts, bundle, writable layer) share nothing: they
	// go at the same time, which the removal of every `run --rm` waits
	// for. A failure of either keeps the record, so that rm can retry.
	netErr := make(chan error, 1)
	go func() { netErr <- e.teardownContainerNetwork(ctx, id) }()
	err = e.teardownFiles(ctx, id)
	return errors.Join(<-netErr, err)
}

// teardownFiles unmounts the rootfs and removes the bundle and the
// writable layer of container id.
func (e *Engine) teardownFiles(ctx context.Context, id string) error {
	bundle := e.bundle(id)
	if err := mount.UnmountAll(bundle + "/rootfs"); err != nil {
		return err
	}
	if err := os.RemoveAll(bundle); err != nil {
		return fmt.Errorf("removing bundle of container %s: %w", id, err)
	}
	if err := e.layers.RemoveRW(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("removing writable layer of container %s: %w", id, err)
	}
	return nil
}

// sweepContainers removes containers whose creator died half way, and
// what they held.
func (e *Engine) sweepContainers(ctx context.Context) {
	swept, err := e.containers.Sweep(ctx)
	if err != nil {
		slog.DebugContext(ctx, "sweeping containers", "error", err)
	}
	for _, id := range swept {
		if err := e.teardown(ctx, id); err != nil {
			slog.DebugContext(ctx, "sweeping container", "id", id, "error", err)
		}
	}
	e.sweepOrphanLayers(ctx)
	e.sweepAbandonedRm(ctx) // container_sweep.go
}

// ContainerWait waits for a container to stop and returns its exit code.
func (e *Engine) ContainerWait(ctx context.Context, ref string) (int, error) {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return -1, err
	}
	if c.Running() && !waitMonitor(ctx, c.State, -1) {
		return -1, ctx.Err()
	}
	st, err := monitor.ReadState(e.containers.StatePath(c.ID))
	if errors.Is(err, os.ErrNotExist) {
		return c.State.ExitCode, nil // removed (--rm) once it ended
	}
	if err != nil {
		return -1, err
	}
	return st.ExitCode, nil
}

// ContainerRestart stops a container (if running) and starts it again.
func (e *Engine) ContainerRestart(ctx context.Context, ref string, timeout time.Duration) error {
	if err := e.ContainerStop(ctx, ref, timeout); err != nil {
		return err
	}
	_, err := e.ContainerStart(ctx, ref, false)
	return err
}

// ContainerPruneReport lists the containers a prune removed.
type ContainerPruneReport struct {
	Deleted []string
}

// ContainerPrune removes every container that is not running.
func (e *Engine) ContainerPrune(ctx context.Context) (ContainerPruneReport, error) {
	var rep ContainerPruneReport
	cs, err := e.containers.List(ctx)
	if err != nil {
		return rep, err
	}
	for _, c := range cs {
		if c.Running() {
			continue
		}
		err := e.ContainerRemove(ctx, c.ID, false)
		if errdefs.IsNotFound(err) || errdefs.IsConflict(err) {
			continue
		}
		if err != nil {
			return rep, err
		}
		rep.Deleted = append(rep.Deleted, c.ID)
	}
	return rep, nil
}

// containerImageUsers is the imageUsers hook: every container keeps its
// image.
func (e *Engine) containerImageUsers(ctx context.Context) ([]ImageUse, error) {
	cs, err := e.containers.List(ctx)
	if err != nil {
		return nil, err
	}
	uses := make([]ImageUse, 0, len(cs))
	for _, c := range cs {
		uses = append(uses, ImageUse{ImageID: digest.Digest(c.Image), ContainerID: c.ID, Running: c.Running()})
	}
	return uses, nil
}
