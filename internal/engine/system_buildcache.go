package engine

import (
	"context"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/build"
)

// BuildCacheUsage is the build cache as `system df` counts it: its step
// entries, and the bytes only it holds (layers no image uses, RUN cache
// mounts) — what `builder prune` or `system prune` would free.
type BuildCacheUsage struct {
	Entries int
	Size    int64
}

func (e *Engine) buildMountsDir() string { return filepath.Join(e.cfg.Root, "build", "mounts") }

// buildCacheUsage counts the layers of the cache's chains (parents
// included) that no image's chain holds.
func (e *Engine) buildCacheUsage(ctx context.Context, imgs []*imageData, sizes map[digest.Digest]int64) (BuildCacheUsage, error) {
	cache, err := build.OpenCache(e.buildCacheDir())
	if err != nil {
		return BuildCacheUsage{}, err
	}
	entries, err := cache.Entries(ctx)
	if err != nil {
		return BuildCacheUsage{}, err
	}
	inImages := map[digest.Digest]bool{}
	for _, d := range imgs {
		for _, c := range d.chainIDs {
			inImages[c] = true
		}
	}
	u := BuildCacheUsage{Entries: len(entries), Size: dirSize(e.buildMountsDir())}
	counted := map[digest.Digest]bool{}
	for _, en := range entries {
		for cur := en.Chain; cur != "" && !counted[cur] && !inImages[cur]; {
			info, err := e.layers.Get(ctx, cur)
			if err != nil {
				break // a stale entry: its layer is gone
			}
			counted[cur] = true
			u.Size += sizes[cur]
			cur = info.Parent
		}
	}
	return u, nil
}
