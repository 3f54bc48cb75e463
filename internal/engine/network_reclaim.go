package engine

import (
	"context"
	"log/slog"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network"
)

// A monitor killed before it ran its release (kill -9, an OOM kill of the
// monitor itself) leaves its stopped container holding its network: its
// ports, its address. Rather than check every container on every start
// (the path of `run --rm`), a start that fails for want of a port or an
// address reclaims what stopped containers hold and tries once more.

// setupWithReclaim is Manager.Setup, retried once after reclaimNetworks
// when a port or an address is taken.
func (e *Engine) setupWithReclaim(ctx context.Context, m *network.Manager, req network.Request) (network.State, error) {
	st, err := m.Setup(ctx, req)
	if (errdefs.IsConflict(err) || errdefs.IsUnavailable(err)) && e.reclaimNetworks(ctx, m, req.ContainerID) {
		st, err = m.Setup(ctx, req)
	}
	return st, err
}

// reclaimNetworks releases the networks of containers other than self that
// are not running and that no one is starting, and reports whether it
// released any.
func (e *Engine) reclaimNetworks(ctx context.Context, m *network.Manager, self string) bool {
	released := false
	for _, id := range m.StateIDs() {
		if id == self {
			continue
		}
		if c, err := e.containers.Get(ctx, id); err == nil && c.Running() {
			continue
		}
		// A start in progress holds the container's lock from before its
		// network is set up until its monitor says it runs: not waiting
		// for it (it may be waiting for ours) but trying once, which
		// LockContext does before it looks at its (cancelled) context.
		tryCtx, cancel := context.WithCancel(ctx)
		cancel()
		unlock, err := e.containers.Lock(tryCtx, id)
		if err != nil {
			continue
		}
		if c, err := e.containers.Get(ctx, id); err != nil || c.Running() {
			unlock()
			continue
		}
		if err := m.Teardown(ctx, id); err != nil {
			slog.DebugContext(ctx, "reclaiming the network of a stopped container", "id", id, "error", err)
		} else {
			released = true
		}
		unlock()
	}
	return released
}
