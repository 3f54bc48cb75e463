package engine

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/volume"
)

// prepareMounts readies c's mounts on the host before its spec is written,
// with its rootfs mounted at rootfs: a missing -v source is created
// (docker's legacy rule), a volume made with --opt is mounted, and an empty
// volume is filled with what the image has at its destination (copy-up).
func (e *Engine) prepareMounts(ctx context.Context, c container.Container, rootfs string) error {
	for _, mp := range c.Mounts {
		switch mp.Type {
		case "bind":
			if _, err := os.Stat(mp.Source); os.IsNotExist(err) && mp.CreateSource {
				if err := os.MkdirAll(mp.Source, 0o755); err != nil {
					return fmt.Errorf("creating bind source %s: %w", mp.Source, err)
				}
			}
		case "volume":
			if err := e.prepareVolume(ctx, c.Record, mp, rootfs); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) prepareVolume(ctx context.Context, rec container.Record, mp container.MountPoint, rootfs string) error {
	// Usually made at creation; should that have failed (or the volume
	// been deleted by hand under the store), it is made now, empty.
	if _, err := e.volumes.Create(ctx, volumeCreateOptions(rec, mp)); err != nil {
		return errVolumeGone(mp.Name, err)
	}
	path, err := e.volumes.Mount(ctx, mp.Name)
	if err != nil {
		return errVolumeGone(mp.Name, err)
	}
	if err := e.remapVolume(rec, path); err != nil { // userns.go
		return fmt.Errorf("volume %s: %w", mp.Name, err)
	}
	if !mp.CopyData {
		return nil
	}
	if err := volume.CopyUp(rootfs, mp.Destination, path); err != nil {
		return fmt.Errorf("volume %s: %w", mp.Name, err)
	}
	return nil
}

// tmpfsDefaults are the options docker gives every tmpfs mount; an option
// the user gives that negates one (exec, suid, dev) drops it.
var tmpfsDefaults = []string{"nosuid", "nodev", "noexec"}

// specMounts are the OCI mounts of rec's mount points and --tmpfs mounts.
func specMounts(rec container.Record) []specs.Mount {
	var out []specs.Mount
	for _, mp := range rec.Mounts {
		if mp.Type == "tmpfs" {
			out = append(out, tmpfsMount(mp.Destination, mp.Options))
			continue
		}
		rw := "rw"
		if !mp.RW {
			rw = "ro"
		}
		propagation := mp.Propagation
		if propagation == "" {
			propagation = "rprivate"
		}
		out = append(out, specs.Mount{
			Destination: mp.Destination, Type: "bind", Source: mp.Source,
			Options: []string{"rbind", rw, propagation},
		})
	}
	for _, dst := range slices.Sorted(maps.Keys(rec.HostConfig.Tmpfs)) {
		var opts []string
		if o := rec.HostConfig.Tmpfs[dst]; o != "" {
			opts = strings.Split(o, ",")
		}
		out = append(out, tmpfsMount(dst, opts))
	}
	return out
}

func tmpfsMount(dst string, user []string) specs.Mount {
	negates := map[string]string{"exec": "noexec", "suid": "nosuid", "dev": "nodev"}
	var opts []string
	for _, d := range tmpfsDefaults {
		if !slices.ContainsFunc(user, func(o string) bool { return negates[o] == d }) {
			opts = append(opts, d)
		}
	}
	return specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: append(opts, user...)}
}
