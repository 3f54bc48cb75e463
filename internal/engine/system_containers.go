package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-containers/strata/internal/monitor"
)

// ContainerUsage is one container of `system df`: its `ps` row, the size
// of its writable layer and how many volumes it mounts.
type ContainerUsage struct {
	ContainerSummary
	SizeRw       int64
	LocalVolumes int
	Running      bool // running, paused or restarting: its layer is not reclaimable
}

// ContainerCounts are `info`'s container numbers.
type ContainerCounts struct {
	Containers, Running, Paused, Stopped int
}

// containerUsage lists every container with the size of its writable
// layer: the bytes of the regular files in its own directory (overlay's
// upper; on vfs that is the whole rootfs, as vfs has no other layer).
func (e *Engine) containerUsage(ctx context.Context) ([]ContainerUsage, error) {
	cs, err := e.containers.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	now := time.Now()
	out := make([]ContainerUsage, 0, len(cs))
	for _, c := range cs {
		u := ContainerUsage{ContainerSummary: summarizeContainer(c, now), Running: c.Running()}
		if dir := e.layers.RWDir(c.ID); dir != "" {
			u.SizeRw = dirSize(dir)
		}
		for _, m := range c.Mounts {
			if m.Type == "volume" {
				u.LocalVolumes++
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// containerCounts counts containers by state as `docker info` does:
// paused ones apart, restarting ones as running.
func (e *Engine) containerCounts(ctx context.Context) (ContainerCounts, error) {
	cs, err := e.containers.List(ctx)
	if err != nil {
		return ContainerCounts{}, fmt.Errorf("listing containers: %w", err)
	}
	n := ContainerCounts{Containers: len(cs)}
	for _, c := range cs {
		switch c.State.Status {
		case monitor.StatusRunning, monitor.StatusRestarting:
			n.Running++
		case monitor.StatusPaused:
			n.Paused++
		default:
			n.Stopped++
		}
	}
	return n, nil
}
