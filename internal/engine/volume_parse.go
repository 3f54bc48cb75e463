package engine

import (
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-units"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/volume"
)

// Mount is one --mount, docker's mount.Mount (HostConfig.Mounts).
type Mount = container.HostMount

// MountOptions are the mount options of create and run, as the user gave
// them: -v/--volume (Binds), --mount, --tmpfs (destination → options) and
// --volumes-from (CONTAINER[:ro|rw]).
type MountOptions struct {
	Binds       []string
	Mounts      []Mount
	Tmpfs       map[string]string
	VolumesFrom []string
}

// bindModes are what -v's third field may hold besides ro/rw, nocopy and a
// propagation: SELinux labels and macOS consistency hints, accepted and
// ignored as docker does on Linux without SELinux.
var bindModes = map[string]bool{"z": true, "Z": true, "consistent": true, "cached": true, "delegated": true}

var propagations = map[string]bool{
	"private": true, "rprivate": true, "shared": true, "rshared": true, "slave": true, "rslave": true,
}

// parseBind turns one -v value (SOURCE:DEST[:MODE] or DEST) into a mount
// point: an absolute SOURCE is a host path (created at start if missing),
// any other a named volume, none an anonymous volume.
func parseBind(spec string) (container.MountPoint, error) {
	parts := strings.Split(spec, ":")
	var src, dst, mode string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
	case 3:
		src, dst, mode = parts[0], parts[1], parts[2]
	default:
		return container.MountPoint{}, errdefs.Invalid("invalid volume specification: '%s'", spec)
	}
	if err := checkDestination(dst, spec); err != nil {
		return container.MountPoint{}, err
	}
	mp := container.MountPoint{Source: src, Destination: filepath.Clean(dst), RW: true, Mode: mode}
	nocopy := false
	for _, o := range strings.Split(mode, ",") {
		switch {
		case o == "" || bindModes[o]:
		case o == "ro":
			mp.RW = false
		case o == "rw":
			mp.RW = true
		case o == "nocopy":
			nocopy = true
		case propagations[o]:
			mp.Propagation = o
		default:
			return container.MountPoint{}, errdefs.Invalid("invalid mode: %s", mode)
		}
	}
	if strings.HasPrefix(src, "/") {
		if nocopy {
			return container.MountPoint{}, errdefs.Invalid("invalid mode: %s", mode)
		}
		mp.Type, mp.Source, mp.CreateSource = "bind", filepath.Clean(src), true
		if mp.Propagation == "" {
			mp.Propagation = "rprivate"
		}
		return mp, nil
	}
	if mp.Propagation != "" {
		return container.MountPoint{}, errdefs.Invalid("invalid mode: %s", mode)
	}
	mp.Type, mp.Name, mp.Source, mp.Driver, mp.CopyData = "volume", src, "", volume.DriverLocal, !nocopy
	mp.Anonymous = src == ""
	if mp.Mode == "" && !mp.Anonymous {
		mp.Mode = "z" // what docker shows for -v name:/path
	}
	return mp, nil
}

func checkDestination(dst, spec string) error {
	if !filepath.IsAbs(dst) {
		return errdefs.Invalid("invalid volume specification: '%s': invalid mount config: mount path must be absolute", spec)
	}
	if filepath.Clean(dst) == "/" {
		return errdefs.Invalid("invalid volume specification: '%s': invalid mount config: destination can't be '/'", spec)
	}
	return nil
}

// ParseMount parses a --mount value (comma-separated key=value fields, as
// docker's: type, source/src, destination/dst/target, readonly/ro,
// bind-propagation, volume-nocopy, volume-label, volume-opt, volume-driver,
// tmpfs-size, tmpfs-mode).
func ParseMount(value string) (Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return Mount{}, errdefs.Invalid("%w", err)
	}
	m := Mount{Type: "volume"}
	for _, f := range fields {
		key, val, hasValue := strings.Cut(f, "=")
		if err := setMountField(&m, strings.ToLower(key), val, hasValue); err != nil {
			return Mount{}, err
		}
	}
	if m.Target == "" {
		return Mount{}, errdefs.Invalid("target is required")
	}
	switch m.Type {
	case "bind", "volume", "tmpfs":
	default:
		return Mount{}, errdefs.Invalid("invalid mount type: %q", m.Type)
	}
	if m.BindOptions != nil && m.Type != "bind" || m.VolumeOptions != nil && m.Type != "volume" ||
		m.TmpfsOptions != nil && m.Type != "tmpfs" {
		return Mount{}, errdefs.Invalid("cannot mix '%s-*' options with mount type '%s'", optionKind(m), m.Type)
	}
	return m, nil
}

func optionKind(m Mount) string {
	switch {
	case m.BindOptions != nil:
		return "bind"
	case m.VolumeOptions != nil:
		return "volume"
	}
	return "tmpfs"
}

func setMountField(m *Mount, key, val string, hasValue bool) error {
	if !hasValue {
		switch key {
		case "readonly", "ro":
			m.ReadOnly = true
			return nil
		case "volume-nocopy":
			volumeOptions(m).NoCopy = true
			return nil
		}
		return errdefs.Invalid("invalid field '%s' must be a key=value pair", key)
	}
	var err error
	switch key {
	case "type":
		m.Type = val
	case "source", "src":
		m.Source = val
	case "target", "dst", "destination":
		m.Target = val
	case "readonly", "ro":
		m.ReadOnly, err = strconv.ParseBool(val)
	case "bind-propagation":
		if !propagations[val] {
			return errdefs.Invalid("invalid value for %s: %s", key, val)
		}
		m.BindOptions = &container.BindOptions{Propagation: val}
	case "volume-nocopy":
		volumeOptions(m).NoCopy, err = strconv.ParseBool(val)
	case "volume-driver":
		driverConfig(m).Name = val
	case "volume-label":
		k, v, _ := strings.Cut(val, "=")
		vo := volumeOptions(m)
		if vo.Labels == nil {
			vo.Labels = map[string]string{}
		}
		vo.Labels[k] = v
	case "volume-opt":
		k, v, ok := strings.Cut(val, "=")
		if !ok {
			return errdefs.Invalid("invalid value for %s: %s", key, val)
		}
		dc := driverConfig(m)
		if dc.Options == nil {
			dc.Options = map[string]string{}
		}
		dc.Options[k] = v
	case "tmpfs-size":
		tmpfsOptions(m).SizeBytes, err = units.RAMInBytes(val)
	case "tmpfs-mode":
		var mode uint64
		mode, err = strconv.ParseUint(val, 8, 32)
		tmpfsOptions(m).Mode = uint32(mode)
	default:
		return errdefs.Invalid("unexpected key '%s' in '%s=%s'", key, key, val)
	}
	if err != nil {
		return errdefs.Invalid("invalid value for %s: %s", key, val)
	}
	return nil
}

func volumeOptions(m *Mount) *container.VolumeOptions {
	if m.VolumeOptions == nil {
		m.VolumeOptions = &container.VolumeOptions{}
	}
	return m.VolumeOptions
}

func driverConfig(m *Mount) *container.DriverConfig {
	vo := volumeOptions(m)
	if vo.DriverConfig == nil {
		vo.DriverConfig = &container.DriverConfig{}
	}
	return vo.DriverConfig
}

func tmpfsOptions(m *Mount) *container.TmpfsOptions {
	if m.TmpfsOptions == nil {
		m.TmpfsOptions = &container.TmpfsOptions{}
	}
	return m.TmpfsOptions
}

// mountPoint turns a --mount into a mount point. A bind source must exist
// (unlike -v's).
func mountPoint(m Mount) (container.MountPoint, error) {
	mp := container.MountPoint{Type: m.Type, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
	if err := checkDestination(m.Target, m.Target); err != nil {
		return mp, err
	}
	mp.Destination = filepath.Clean(m.Target)
	switch m.Type {
	case "bind":
		if m.Source == "" {
			return mp, errdefs.Invalid(`invalid mount config for type "bind": field Source must not be empty`)
		}
		if !filepath.IsAbs(m.Source) {
			return mp, errdefs.Invalid(`invalid mount config for type "bind": invalid mount path: '%s' mount path must be absolute`, m.Source)
		}
		mp.Source, mp.Propagation = filepath.Clean(m.Source), "rprivate"
		if m.BindOptions != nil && m.BindOptions.Propagation != "" {
			mp.Propagation = m.BindOptions.Propagation
		}
	case "volume":
		mp.Name, mp.Driver, mp.Mode, mp.Source = m.Source, volume.DriverLocal, "z", ""
		mp.Anonymous, mp.CopyData = m.Source == "", m.VolumeOptions == nil || !m.VolumeOptions.NoCopy
	case "tmpfs":
		if m.Source != "" {
			return mp, errdefs.Invalid(`invalid mount config for type "tmpfs": field Source must not be specified`)
		}
		if t := m.TmpfsOptions; t != nil && t.SizeBytes > 0 {
			mp.Options = append(mp.Options, fmt.Sprintf("size=%d", t.SizeBytes))
		}
		if t := m.TmpfsOptions; t != nil && t.Mode != 0 {
			mp.Options = append(mp.Options, fmt.Sprintf("mode=%o", t.Mode))
		}
	}
	return mp, nil
}
