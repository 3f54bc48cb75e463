package engine

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
)

// psFilterKeys are the --filter keys of ps.
var psFilterKeys = []string{"status", "name", "id", "label", "ancestor", "exited", "before", "since"}

// moreContainerFilters returns the matcher of ps's ancestor, exited,
// before and since filters (matchContainer does the others).
func (e *Engine) moreContainerFilters(ctx context.Context, f Filters) (func(container.Container) bool, error) {
	var exited []int
	for _, v := range f["exited"] {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, invalidFilter("exited", v)
		}
		exited = append(exited, n)
	}
	before, err := e.filterCreated(ctx, f, "before")
	if err != nil {
		return nil, err
	}
	since, err := e.filterCreated(ctx, f, "since")
	if err != nil {
		return nil, err
	}
	ancestors := e.ancestorIDs(ctx, f["ancestor"])
	return func(c container.Container) bool {
		if len(exited) > 0 && (c.State.Status != monitor.StatusExited || !slices.Contains(exited, c.State.ExitCode)) {
			return false
		}
		if !before.IsZero() && !c.Created.Before(before) {
			return false
		}
		if !since.IsZero() && !c.Created.After(since) {
			return false
		}
		if len(f["ancestor"]) > 0 && !ancestors[c.Image] && !slices.Contains(f["ancestor"], c.ImageName) {
			return false
		}
		return true
	}, nil
}

// filterCreated is the creation time of the container a before= or
// since= filter names.
func (e *Engine) filterCreated(ctx context.Context, f Filters, key string) (time.Time, error) {
	vals := f[key]
	if len(vals) == 0 {
		return time.Time{}, nil
	}
	c, err := e.containers.Get(ctx, vals[len(vals)-1])
	if err != nil {
		return time.Time{}, errdefs.NotFound("No such container: %s", vals[len(vals)-1])
	}
	return c.Created, nil
}

// ancestorIDs resolves ancestor= values (names or IDs) to image IDs;
// one that names no image matches by the name containers were run with.
func (e *Engine) ancestorIDs(ctx context.Context, refs []string) map[string]bool {
	ids := map[string]bool{}
	for _, ref := range refs {
		if img, err := e.images.Resolve(ctx, ref); err == nil {
			ids[string(img.ID)] = true
		}
	}
	return ids
}

// containerSizes fills the SIZE column of ps -s: the bytes of the
// writable layer and, virtually, of the image under it.
func (e *Engine) containerSizes(ctx context.Context, c container.Container, s *ContainerSummary) {
	s.SizeRw = dirSize(e.layers.RWDir(c.ID))
	s.SizeRootFs = s.SizeRw
	img, err := e.images.Resolve(ctx, c.Image)
	if err != nil {
		return
	}
	d, err := e.readImage(ctx, img)
	if err != nil {
		return
	}
	for _, chain := range d.chainIDs {
		if l, err := e.layers.Get(ctx, chain); err == nil {
			s.SizeRootFs += l.Size
		}
	}
}
