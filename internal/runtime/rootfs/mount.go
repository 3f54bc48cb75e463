package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// mountOptions is a spec mount's options split the way mount(2) wants them.
type mountOptions struct {
	flags       uintptr // MS_* flags for the mount itself
	propagation uintptr // MS_SHARED/MS_SLAVE/... applied afterwards
	data        []string
	bind        bool
}

var flagOptions = map[string]uintptr{
	"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC,
	"sync": unix.MS_SYNCHRONOUS, "dirsync": unix.MS_DIRSYNC, "mand": unix.MS_MANDLOCK,
	"noatime": unix.MS_NOATIME, "nodiratime": unix.MS_NODIRATIME, "relatime": unix.MS_RELATIME,
	"strictatime": unix.MS_STRICTATIME, "lazytime": unix.MS_LAZYTIME, "nosymfollow": unix.MS_NOSYMFOLLOW,
	"bind": unix.MS_BIND, "rbind": unix.MS_BIND | unix.MS_REC,
}

// defaultOptions restate a default: they set no flag and are not data.
var defaultOptions = map[string]bool{
	"rw": true, "suid": true, "dev": true, "exec": true, "async": true, "atime": true,
	"diratime": true, "norelatime": true, "nostrictatime": true, "defaults": true, "nomand": true,
}

var propagationOptions = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

func parseOptions(m specs.Mount) mountOptions {
	var o mountOptions
	for _, opt := range m.Options {
		switch {
		case flagOptions[opt] != 0:
			o.flags |= flagOptions[opt]
		case propagationOptions[opt] != 0:
			o.propagation |= propagationOptions[opt]
		case !defaultOptions[opt]:
			o.data = append(o.data, opt)
		}
	}
	o.bind = m.Type == "bind" || o.flags&unix.MS_BIND != 0
	return o
}

// mountSpec performs one mount of the spec inside the rootfs.
func (s *setup) mountSpec(m specs.Mount) error {
	if !filepath.IsAbs(m.Destination) {
		return errdefs.Invalid("mount destination %q is not absolute", m.Destination)
	}
	opts := parseOptions(m)
	var err error
	switch {
	case m.Type == "cgroup" || m.Type == "cgroup2":
		err = s.mountCgroup(m, opts)
	case opts.bind:
		err = s.mountBind(m, opts)
	default:
		err = s.mountFS(m, opts)
	}
	if err != nil {
		return fmt.Errorf("mounting %s %q on %s: %w", m.Type, m.Source, m.Destination, err)
	}
	return nil
}

// mountFS mounts a file system the kernel makes (proc, tmpfs, sysfs, ...).
func (s *setup) mountFS(m specs.Mount, o mountOptions) error {
	fd, err := mkdirAllInRoot(s.root, m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	err = unix.Mount(m.Source, procFd(fd), m.Type, o.flags, strings.Join(o.data, ","))
	if errors.Is(err, unix.EPERM) && m.Type == "sysfs" {
		// A new user namespace that does not own the network namespace
		// may not mount sysfs; the host's, read-only, is the fallback.
		return s.mountBind(specs.Mount{Source: "/sys", Destination: m.Destination},
			mountOptions{flags: o.flags | unix.MS_BIND | unix.MS_REC, bind: true})
	}
	if err != nil {
		return err
	}
	return s.propagate(m.Destination, o.propagation)
}

// mountBind bind-mounts a host path. The kernel ignores ro/nosuid/... on
// the bind itself, so they are applied by a remount of the new mount.
func (s *setup) mountBind(m specs.Mount, o mountOptions) error {
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(s.cfg.Bundle, src)
	}
	fi, err := os.Stat(src)
	if errors.Is(err, os.ErrNotExist) {
		return errdefs.NotFound("bind source: %w", err)
	}
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	var fd int
	if fi.IsDir() {
		fd, err = mkdirAllInRoot(s.root, m.Destination, 0o755)
	} else {
		fd, err = createFileInRoot(s.root, m.Destination)
	}
	if err != nil {
		return err
	}
	err = unix.Mount(src, procFd(fd), "", unix.MS_BIND|o.flags&unix.MS_REC, "")
	unix.Close(fd)
	if err != nil {
		return err
	}
	if extra := o.flags &^ (unix.MS_BIND | unix.MS_REC); extra != 0 {
		if err := s.remount(m.Destination, extra); err != nil {
			return err
		}
	}
	return s.propagate(m.Destination, o.propagation)
}

// remount re-applies the per-mount flags of the mount at dest. Flags the
// kernel locked on the source (nosuid, nodev, ... of a mount from a more
// privileged namespace) cannot be cleared, so they are kept.
func (s *setup) remount(dest string, flags uintptr) error {
	fd, err := openInRoot(s.root, dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return remountFd(procFd(fd), fd, flags)
}

// remountFd remounts the bind mount at target, whose O_PATH descriptor is fd.
func remountFd(target string, fd int, flags uintptr) error {
	err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|flags, "")
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return err
	}
	locked := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY |
		unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	return unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|flags|locked, "")
}

func (s *setup) propagate(dest string, flags uintptr) error {
	if flags == 0 {
		return nil
	}
	fd, err := openInRoot(s.root, dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Mount("", procFd(fd), "", flags, "")
}

// mountCgroup gives the container its own cgroup at dest: on v2 the
// cgroup's directory itself, on v1 a tmpfs holding one directory per
// hierarchy, each a bind of the container's cgroup in that hierarchy. The
// container thus sees its own cgroup as the root, with or without a
// cgroup namespace.
func (s *setup) mountCgroup(m specs.Mount, o mountOptions) error {
	ms := s.cfg.CgroupMounts
	if len(ms) == 0 {
		return errdefs.Unavailable("no cgroup hierarchy to mount")
	}
	bindFlags := o.flags&^(unix.MS_BIND|unix.MS_REC) | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if len(ms) == 1 && ms[0].Dir == "" {
		return s.mountBind(specs.Mount{Source: ms[0].HostPath, Destination: m.Destination},
			mountOptions{flags: bindFlags | unix.MS_BIND, propagation: o.propagation, bind: true})
	}
	tmpfs := specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: m.Destination}
	if err := s.mountFS(tmpfs, mountOptions{flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, data: []string{"mode=755"}}); err != nil {
		return err
	}
	for _, cm := range ms {
		dest := filepath.Join(m.Destination, cm.Dir)
		if err := s.mountBind(specs.Mount{Source: cm.HostPath, Destination: dest},
			mountOptions{flags: bindFlags | unix.MS_BIND, bind: true}); err != nil {
			return err
		}
		for _, l := range cm.Links {
			if err := s.symlink(cm.Dir, filepath.Join(m.Destination, l)); err != nil {
				return err
			}
		}
	}
	if o.flags&unix.MS_RDONLY != 0 {
		fd, err := openInRoot(s.root, m.Destination, unix.O_PATH)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		err = unix.Mount("", procFd(fd), "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755")
		if err != nil {
			return fmt.Errorf("remounting cgroup tmpfs read-only: %w", err)
		}
	}
	return s.propagate(m.Destination, o.propagation)
}
