package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
)

// PruneOptions selects what ImagePrune removes.
type PruneOptions struct {
	// All removes every image no container uses, not only dangling ones.
	All bool
	// Filters: label=key[=value], label!=key[=value], until=<timestamp>;
	// dangling=false is the same as All.
	Filters Filters
}

// PruneReport is what ImagePrune removed.
type PruneReport struct {
	ImagesDeleted  []DeleteResponse
	SpaceReclaimed int64 // bytes of the layers removed
}

// ImagePrune removes dangling images (untagged and not a parent), or with
// All every image not used by a container, as `docker image prune` does,
// then collects garbage. It holds gc.lock exclusively from the choice of
// images to the end, so an image that a load is still tagging is never
// taken for dangling.
func (e *Engine) ImagePrune(ctx context.Context, opts PruneOptions) (PruneReport, error) {
	f := opts.Filters
	if err := f.check("dangling", "label", "label!", "until"); err != nil {
		return PruneReport{}, err
	}
	dangling, set, err := f.boolean("dangling")
	if err != nil {
		return PruneReport{}, err
	}
	danglingOnly := !opts.All && (!set || dangling)
	until, err := f.until(time.Now())
	if err != nil {
		return PruneReport{}, err
	}
	unlock, err := e.exclusive(ctx)
	if err != nil {
		return PruneReport{}, err
	}
	defer unlock()
	rm := &remover{e: e}
	if err := e.prune(ctx, rm, danglingOnly, until, f); err != nil {
		return PruneReport{ImagesDeleted: rm.records}, err
	}
	rep, err := e.gc(ctx)
	for _, l := range rep.Layers {
		rm.records = append(rm.records, DeleteResponse{Deleted: l.ChainID.String()})
	}
	return PruneReport{ImagesDeleted: rm.records, SpaceReclaimed: rep.LayerBytes()}, err
}

func (e *Engine) prune(ctx context.Context, rm *remover, danglingOnly bool, until time.Time, f Filters) error {
	imgs, err := e.readImages(ctx)
	if err != nil {
		return err
	}
	kids := make(map[string]int)
	for _, d := range imgs {
		kids[d.Parent.String()]++
	}
	for _, d := range imgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		refs, err := refsOf(d.Image)
		if err != nil {
			return err
		}
		parent := kids[d.ID.String()] > 0
		if (parent && (danglingOnly || len(refs) == 0)) || (!until.IsZero() && d.created().After(until)) || !f.matchLabels(d.config.Config.Labels) {
			continue
		}
		for _, name := range pruneNames(d, refs, danglingOnly) {
			err := rm.remove(ctx, name, false, true)
			// A conflict (a container uses it, it became a parent) or an
			// image already gone with an earlier one is not a failure of
			// the prune: the image is simply not removed.
			if err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
				return err
			}
			if err != nil {
				slog.DebugContext(ctx, "prune kept image", "image", name, "reason", err)
			}
		}
	}
	return nil
}

// pruneNames says how to remove an image in a prune: by its references, one
// by one, the last of which deletes it; or by ID when it has none. With
// danglingOnly an image with a tag is kept; one with only digest references
// is dangling for this purpose, as in docker.
func pruneNames(d *imageData, refs []imageRef, danglingOnly bool) []string {
	if len(refs) == 0 {
		return []string{d.ID.Encoded()}
	}
	var names []string
	for _, r := range refs {
		if danglingOnly && !r.canonical {
			return nil
		}
		names = append(names, reference.Familiar(r.named))
	}
	return names
}
