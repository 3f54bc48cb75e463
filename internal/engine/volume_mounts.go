package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/volume"
)

// resolveMounts fills rec's mount configuration and mount points from
// opts and the image's VOLUME entries, in docker's order of precedence:
// --volumes-from first, then -v and --mount (which may not name one
// destination twice), --tmpfs, and last an anonymous volume (with a new
// random name) for each image volume no other mount covers. It checks the
// volumes' names and options but creates none: createVolumes does, once
// the record that keeps them in use is written, so a creation that fails
// leaves no volume behind.
func (e *Engine) resolveMounts(ctx context.Context, rec *container.Record, opts MountOptions, imageVolumes map[string]struct{}) error {
	rec.Config.Volumes = imageVolumes
	rec.HostConfig.Binds, rec.HostConfig.Mounts = opts.Binds, opts.Mounts
	rec.HostConfig.Tmpfs, rec.HostConfig.VolumesFrom = opts.Tmpfs, opts.VolumesFrom
	points, err := e.userMounts(ctx, opts)
	if err != nil {
		return err
	}
	for _, dst := range slices.Sorted(maps.Keys(imageVolumes)) {
		dst = filepath.Clean(dst)
		if _, covered := points[dst]; covered || hasTmpfs(opts.Tmpfs, dst) {
			continue
		}
		points[dst] = container.MountPoint{
			Type: "volume", Destination: dst, Driver: volume.DriverLocal, RW: true, Anonymous: true, CopyData: true,
		}
	}
	for _, dst := range slices.Sorted(maps.Keys(points)) {
		mp := points[dst]
		if mp.Type == "volume" {
			vo := volumeCreateOptions(*rec, mp)
			if err := volume.Validate(&vo); err != nil {
				return err
			}
			mp.Name, mp.Source = vo.Name, e.volumes.Path(vo.Name)
		}
		rec.Mounts = append(rec.Mounts, mp)
	}
	return nil
}

// createVolumes creates the volumes rec names that do not exist yet; a
// failure is left for the start, which creates them too.
func (e *Engine) createVolumes(ctx context.Context, rec container.Record) {
	for _, mp := range rec.Mounts {
		if mp.Type != "volume" {
			continue
		}
		if _, err := e.volumes.Create(ctx, volumeCreateOptions(rec, mp)); err != nil {
			slog.DebugContext(ctx, "creating volume", "volume", mp.Name, "error", err)
		}
	}
}

// userMounts are the mount points of --volumes-from, -v and --mount, by
// destination.
func (e *Engine) userMounts(ctx context.Context, opts MountOptions) (map[string]container.MountPoint, error) {
	points := map[string]container.MountPoint{}
	for _, from := range opts.VolumesFrom {
		inherited, err := e.volumesFrom(ctx, from)
		if err != nil {
			return nil, err
		}
		for _, mp := range inherited {
			points[mp.Destination] = mp
		}
	}
	own := map[string]bool{}
	add := func(mp container.MountPoint) error {
		if own[mp.Destination] || hasTmpfs(opts.Tmpfs, mp.Destination) {
			return errdefs.Invalid("Duplicate mount point: %s", mp.Destination)
		}
		own[mp.Destination], points[mp.Destination] = true, mp
		return nil
	}
	for _, b := range opts.Binds {
		mp, err := parseBind(b)
		if err != nil {
			return nil, err
		}
		if err := add(mp); err != nil {
			return nil, err
		}
	}
	for _, m := range opts.Mounts {
		mp, err := mountPoint(m)
		if err != nil {
			return nil, err
		}
		if mp.Type == "bind" {
			if _, err := os.Stat(mp.Source); err != nil {
				return nil, errdefs.Invalid(`invalid mount config for type "bind": bind source path does not exist: %s`, mp.Source)
			}
		}
		if err := add(mp); err != nil {
			return nil, err
		}
	}
	return points, nil
}

// volumesFrom returns the mounts (not tmpfs) of the container named by
// ref ("CONTAINER[:ro|rw]"), made read-only or read-write by the mode.
func (e *Engine) volumesFrom(ctx context.Context, ref string) ([]container.MountPoint, error) {
	name, mode, _ := strings.Cut(ref, ":")
	if mode != "" && mode != "ro" && mode != "rw" {
		return nil, errdefs.Invalid("invalid mode for volumes-from: %s", mode)
	}
	c, err := e.containers.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []container.MountPoint
	for _, mp := range c.Mounts {
		if mp.Type == "tmpfs" {
			continue
		}
		// Inherited: this container did not make it, and `rm -v` of it
		// must leave it; its content was copied up already.
		mp.Anonymous, mp.CopyData = false, false
		switch mode {
		case "ro":
			mp.RW, mp.Mode = false, "ro"
		case "rw":
			mp.RW, mp.Mode = true, "rw"
		}
		out = append(out, mp)
	}
	return out, nil
}

// volumeCreateOptions are the options of the volume of mp: the
// anonymous label, or the labels and driver options of its --mount.
func volumeCreateOptions(rec container.Record, mp container.MountPoint) volume.CreateOptions {
	opts := volume.CreateOptions{Name: mp.Name}
	if mp.Anonymous {
		opts.Labels = map[string]string{volume.LabelAnonymous: ""}
	}
	if m := volumeMountOptions(rec.HostConfig.Mounts, mp.Destination); m != nil && m.VolumeOptions != nil {
		if vo := m.VolumeOptions; vo.Labels != nil {
			opts.Labels = vo.Labels
		}
		if dc := m.VolumeOptions.DriverConfig; dc != nil {
			opts.Driver, opts.Options = dc.Name, dc.Options
		}
	}
	return opts
}

// volumeMountOptions returns the --mount of type volume at dst, whose
// labels and driver options a new volume takes.
func volumeMountOptions(ms []Mount, dst string) *Mount {
	for i := range ms {
		if ms[i].Type == "volume" && filepath.Clean(ms[i].Target) == dst {
			return &ms[i]
		}
	}
	return nil
}

func hasTmpfs(tmpfs map[string]string, dst string) bool {
	for p := range tmpfs {
		if filepath.Clean(p) == dst {
			return true
		}
	}
	return false
}

// ParseTmpfs parses a --tmpfs value, PATH[:OPTIONS].
func ParseTmpfs(value string) (string, string, error) {
	dst, opts, _ := strings.Cut(value, ":")
	if !filepath.IsAbs(dst) {
		return "", "", errdefs.Invalid("invalid mount config: mount path must be absolute: %s", dst)
	}
	return filepath.Clean(dst), opts, nil
}

// errVolumeGone is a start whose record names a volume that no longer
// exists (removed by hand under the store).
func errVolumeGone(name string, err error) error {
	return fmt.Errorf("mounting volume %s: %w", name, err)
}
