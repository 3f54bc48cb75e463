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
