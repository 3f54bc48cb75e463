package engine

import (
	"context"
	"log/slog"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
)

// ContainerRemoveWithVolumes is ContainerRemove that also removes the
// container's anonymous volumes (`rm -v`, and --rm containers), once its
// record, which kept them in use, is gone. A volume another container
// still uses (through --volumes-from) stays, as in docker.
func (e *Engine) ContainerRemoveWithVolumes(ctx context.Context, ref string, force bool) error {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	if err := e.ContainerRemove(ctx, c.ID, force); err != nil {
		return err
	}
	return e.removeAnonymousVolumes(ctx, c)
}

// removeAnonymousVolumes removes the anonymous volumes of the removed
// container c that no other container uses.
func (e *Engine) removeAnonymousVolumes(ctx context.Context, c container.Container) error {
	for _, mp := range c.Mounts {
		if mp.Type != "volume" || !mp.Anonymous {
			continue
		}
		err := e.VolumeRemove(ctx, mp.Name, true)
		if err != nil && !errdefs.IsConflict(err) {
			return err
		}
		if err != nil {
			slog.DebugContext(ctx, "keeping anonymous volume", "volume", mp.Name, "error", err)
		}
	}
	return nil
}

// MountPoint is one of a container's Mounts as docker's inspect shows it.
type MountPoint struct {
	Type        string `json:"Type,omitempty"`
	Name        string `json:"Name,omitempty"`
	Source      string
	Destination string
	Driver      string `json:"Driver,omitempty"`
	Mode        string
	RW          bool
	Propagation string
}

// inspectMounts is rec's Mounts for inspect: volumes, binds and --mount
// tmpfs mounts (docker leaves --tmpfs ones out), by destination.
func inspectMounts(rec container.Record) []MountPoint {
	out := []MountPoint{}
	for _, mp := range rec.Mounts {
		out = append(out, MountPoint{
			Type: mp.Type, Name: mp.Name, Source: mp.Source, Destination: mp.Destination,
			Driver: mp.Driver, Mode: mp.Mode, RW: mp.RW, Propagation: mp.Propagation,
		})
	}
	return out
}
