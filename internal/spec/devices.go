package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Device is one `--device` mapping, as docker's HostConfig.Devices shows it.
type Device struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// ParseDevice parses docker's --device value: HOST[:CONTAINER][:PERMS],
// where PERMS is a non-empty subset of "rwm" (default rwm) and CONTAINER
// defaults to HOST.
func ParseDevice(s string) (Device, error) {
	parts := strings.Split(s, ":")
	d := Device{CgroupPermissions: "rwm"}
	switch len(parts) {
	case 3:
		d.PathOnHost, d.PathInContainer, d.CgroupPermissions = parts[0], parts[1], parts[2]
	case 2:
		d.PathOnHost = parts[0]
		if validPerms(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 1:
		d.PathOnHost = parts[0]
	default:
		return d, errdefs.Invalid("invalid device specification: %s", s)
	}
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	switch {
	case d.PathOnHost == "":
		return d, errdefs.Invalid("invalid device specification: %s: no host path", s)
	case !validPerms(d.CgroupPermissions):
		return d, errdefs.Invalid("invalid device mode: %s", d.CgroupPermissions)
	case !path.IsAbs(d.PathInContainer):
		return d, errdefs.Invalid("%s is not an absolute path", d.PathInContainer)
	}
	return d, nil
}

func validPerms(p string) bool {
	if p == "" || len(p) > 3 {
		return false
	}
	for _, c := range p {
		if !strings.ContainsRune("rwm", c) || strings.Count(p, string(c)) > 1 {
			return false
		}
	}
	return true
}

// WithDevices adds the host's device nodes of devs to the container, each
// allowed in the device cgroup with its permissions. A directory adds
// every device under it, at the same relative paths.
func WithDevices(devs []Device) Opt {
	return func(s *specs.Spec) error {
		for _, d := range devs {
			nodes, err := hostNodes(d.PathOnHost, d.PathInContainer)
			if err != nil {
				return err
			}
			if len(nodes) == 0 {
				return errdefs.Invalid("error gathering device information while adding custom device %q: not a device node", d.PathOnHost)
			}
			for _, n := range nodes {
				addDevice(s, n, d.CgroupPermissions)
			}
		}
		return nil
	}
}

// WithHostDevices, with on, gives the container every device node of the
// host's /dev, as `docker run --privileged` does (WithPrivileged opens
// the device cgroup).
func WithHostDevices(on bool) Opt {
	return func(s *specs.Spec) error {
		if !on {
			return nil
		}
		nodes, err := hostNodes("/dev", "/dev")
		if err != nil {
			return err
		}
		for _, n := range nodes {
			addDevice(s, n, "rwm")
		}
		return nil
	}
}

func addDevice(s *specs.Spec, n specs.LinuxDevice, perms string) {
	s.Linux.Devices = append(s.Linux.Devices, n)
	major, minor := n.Major, n.Minor
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
		Allow: true, Type: n.Type, Major: &major, Minor: &minor, Access: perms,
	})
}

// skipDirs are the parts of /dev that are not the host's devices to hand
// out: per-container file systems and bookkeeping (runc's list).
var skipDirs = map[string]bool{"pts": true, "shm": true, "fd": true, "mqueue": true, ".lxc": true, ".lxd-mounts": true, ".udev": true}

// hostNodes returns the device nodes at hostPath (following a symlink
// there), or under it if it is a directory, placed at ctrPath.
func hostNodes(hostPath, ctrPath string) ([]specs.LinuxDevice, error) {
	fi, err := os.Stat(hostPath)
	if err != nil {
		return nil, errdefs.Invalid("error gathering device information while adding custom device %q: %w", hostPath, err)
	}
	if !fi.IsDir() {
		n, ok := nodeOf(fi, ctrPath)
		if !ok {
			return nil, nil
		}
		return []specs.LinuxDevice{n}, nil
	}
	root, err := filepath.EvalSymlinks(hostPath)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", hostPath, err)
	}
	var nodes []specs.LinuxDevice
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
				return nil // a node that vanished or a dir we may not read
			}
			return err
		}
		if e.IsDir() && p != root && skipDirs[e.Name()] {
			return filepath.SkipDir
		}
		if e.Type()&fs.ModeDevice == 0 || (root == "/dev" && p == "/dev/console") {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if n, ok := nodeOf(fi, path.Join(ctrPath, filepath.ToSlash(rel))); ok {
			nodes = append(nodes, n)
		}
		return nil
	})
	return nodes, err
}

// nodeOf describes a device node found on the host.
func nodeOf(fi os.FileInfo, ctrPath string) (specs.LinuxDevice, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Mode()&fs.ModeDevice == 0 {
		return specs.LinuxDevice{}, false
	}
	typ := "b"
	if fi.Mode()&fs.ModeCharDevice != 0 {
		typ = "c"
	}
	mode := fi.Mode().Perm()
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: ctrPath, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, true
}
