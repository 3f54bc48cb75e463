package engine

import (
	"context"
	"log/slog"

	"github.com/strata-containers/strata/internal/container"
)

// sweepOrphanLayers frees the writable layers (and bundle, runtime state,
// network) of containers that have no record: left by a sweep that died
// between removing a dead creator's record and its teardown, or by a power
// loss that kept an --rm container's unsynced writable layer but not its
// unsynced record. Only container-shaped IDs are looked at (build steps
// sweep their own).
func (e *Engine) sweepOrphanLayers(ctx context.Context) {
	ids, err := e.layers.RWIDs(ctx)
	if err != nil {
		slog.DebugContext(ctx, "sweeping writable layers", "error", err)
		return
	}
	swept := false
	for _, id := range ids {
		// The layer is listed before the record is looked for: a creator
		// makes the record first, a remover drops the layer first.
		if !container.IsID(id) || e.containers.Holds(id) {
			continue
		}
		if err := e.teardown(ctx, id); err != nil {
			slog.DebugContext(ctx, "sweeping writable layer", "id", id, "error", err)
		}
		swept = true
	}
	if swept {
		e.containers.SweepNames() // the record's name may have outlived it
	}
}

// sweepAbandonedRm removes the --rm containers whose run died whole: the
// monitor (and the CLI, had it been attached) killed while the container
// ran, so no one is left to remove it. Docker's daemon removes such
// containers when it restarts; strata's next create does. A record still
// saying "running" with its monitor gone tells them apart from an --rm
// container that ended normally and is being removed right now (its
// monitor wrote the exit first).
func (e *Engine) sweepAbandonedRm(ctx context.Context) {
	ids, err := e.containers.Orphaned(ctx)
	if err != nil {
		slog.DebugContext(ctx, "sweeping --rm containers", "error", err)
		return
	}
	for _, id := range ids {
		c, err := e.containers.Get(ctx, id)
		if err != nil || !c.HostConfig.AutoRemove {
			continue
		}
		if err := e.ContainerRemoveWithVolumes(ctx, c.ID, true); err != nil {
			slog.DebugContext(ctx, "sweeping --rm container", "id", c.ID, "error", err)
		}
	}
}
