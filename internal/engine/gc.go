package engine

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
)

// GCReport lists what a collection removed.
type GCReport struct {
	Blobs  []content.Info // removed blobs
	Layers []layer.Info   // removed layers, children before parents
}

// LayerBytes is the size of the removed layers, docker's "reclaimed space".
func (r GCReport) LayerBytes() int64 {
	var n int64
	for _, l := range r.Layers {
		n += l.Size
	}
	return n
}

// GC removes every blob and layer that no image reaches.
func (e *Engine) GC(ctx context.Context) (GCReport, error) {
	unlock, err := e.exclusive(ctx)
	if err != nil {
		return GCReport{}, err
	}
	defer unlock()
	return e.gc(ctx)
}

// reachable is what the roots keep.
type reachable struct {
	blobs  map[digest.Digest]bool
	layers map[digest.Digest]bool
}

// gc collects; the caller holds gc.lock exclusively.
func (e *Engine) gc(ctx context.Context) (GCReport, error) {
	keep, complete, err := e.reachable(ctx)
	if err != nil {
		return GCReport{}, err
	}
	if !complete {
		// An image whose manifest or config is unreadable hides which
		// blobs and layers it needs; deleting on a partial view could
		// destroy what a repair (a new load or pull) would reuse.
		slog.WarnContext(ctx, "garbage collection skipped: some images are damaged; run `strata system check`")
		return GCReport{}, nil
	}
	var rep GCReport
	if rep.Blobs, err = e.sweepBlobs(ctx, keep.blobs); err != nil {
		return rep, err
	}
	rep.Layers, err = e.sweepLayers(ctx, keep.layers)
	return rep, err
}

// reachable walks the roots. complete is false when some root could not be
// read in full.
func (e *Engine) reachable(ctx context.Context) (reachable, bool, error) {
	keep := reachable{blobs: map[digest.Digest]bool{}, layers: map[digest.Digest]bool{}}
	imgs, err := e.images.List(ctx)
	if err != nil {
		return keep, false, err
	}
	complete := true
	for _, img := range imgs {
		keep.blobs[img.Manifest.Digest] = true
		keep.blobs[img.ID] = true
		d, err := e.readImage(ctx, img)
		if errdefs.IsNotFound(err) || errdefs.IsDataLoss(err) || errdefs.IsInvalid(err) {
			slog.WarnContext(ctx, "image unreadable during garbage collection", "image", img.ID, "error", err)
			complete = false
			continue
		}
		if err != nil {
			return keep, false, err
		}
		keep.blobs[d.manifest.Config.Digest] = true
		for _, l := range d.manifest.Layers {
			keep.blobs[l.Digest] = true
		}
		for _, c := range d.chainIDs {
			keep.layers[c] = true
		}
	}
	if err := e.keepBuildCache(ctx, &keep); err != nil {
		return keep, false, err
	}
	return keep, complete, nil
}

func (e *Engine) sweepBlobs(ctx context.Context, keep map[digest.Digest]bool) ([]content.Info, error) {
	var garbage []content.Info
	err := e.content.Walk(ctx, func(info content.Info) error {
		if !keep[info.Digest] {
			garbage = append(garbage, info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking content store: %w", err)
	}
	removed := garbage[:0]
	for _, info := range garbage {
		if err := e.content.Delete(ctx, info.Digest); err != nil && !errdefs.IsNotFound(err) {
			return removed, fmt.Errorf("removing blob %s: %w", info.Digest, err)
		}
		slog.DebugContext(ctx, "removed blob", "digest", info.Digest)
		removed = append(removed, info)
	}
	return removed, nil
}

// sweepLayers removes unreachable layers deepest first, so that each one's
// children are gone before it. A layer still needed by a container's
// writable layer is a conflict and stays.
func (e *Engine) sweepLayers(ctx context.Context, keep map[digest.Digest]bool) ([]layer.Info, error) {
	infos, err := e.layers.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	depth := layerDepths(infos)
	slices.SortFunc(infos, func(a, b layer.Info) int {
		return cmp.Or(cmp.Compare(depth[b.ChainID], depth[a.ChainID]), cmp.Compare(a.ChainID, b.ChainID))
	})
	var removed []layer.Info
	for _, l := range infos {
		if keep[l.ChainID] {
			continue
		}
		err := e.layers.Remove(ctx, l.ChainID)
		switch {
		case err == nil:
			slog.DebugContext(ctx, "removed layer", "chainID", l.ChainID)
			removed = append(removed, l)
		case errdefs.IsConflict(err):
			slog.DebugContext(ctx, "layer still in use", "chainID", l.ChainID, "error", err)
		case errdefs.IsNotFound(err):
		default:
			return removed, fmt.Errorf("removing layer %s: %w", l.ChainID, err)
		}
	}
	return removed, nil
}

// layerDepths gives each layer its distance from the base of its chain.
func layerDepths(infos []layer.Info) map[digest.Digest]int {
	parent := make(map[digest.Digest]digest.Digest, len(infos))
	for _, l := range infos {
		parent[l.ChainID] = l.Parent
	}
	depth := make(map[digest.Digest]int, len(infos))
	var walk func(c digest.Digest, seen int) int
	walk = func(c digest.Digest, seen int) int {
		if d, ok := depth[c]; ok {
			return d
		}
		p, ok := parent[c]
		if !ok || p == "" || seen > len(infos) {
			return 0
		}
		d := walk(p, seen+1) + 1
		depth[c] = d
		return d
	}
	for _, l := range infos {
		walk(l.ChainID, 0)
	}
	return depth
}
