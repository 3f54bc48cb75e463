package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets (the OCI spec's list).
var defaultDevices = []specs.LinuxDevice{
	charDevice("/dev/null", 1, 3), charDevice("/dev/zero", 1, 5), charDevice("/dev/full", 1, 7),
	charDevice("/dev/random", 1, 8), charDevice("/dev/urandom", 1, 9), charDevice("/dev/tty", 5, 0),
}

func charDevice(p string, major, minor int64) specs.LinuxDevice {
	mode := os.FileMode(0o666)
	return specs.LinuxDevice{Path: p, Type: "c", Major: major, Minor: minor, FileMode: &mode}
}

// devSymlinks are the links of a standard /dev (name → target).
var devSymlinks = [][2]string{
	{"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"},
	{"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"},
	{"/dev/ptmx", "pts/ptmx"},
}

// setupDev fills the container's /dev: the default devices, the spec's,
// and the standard symlinks.
func (s *setup) setupDev() error {
	devs := append(append([]specs.LinuxDevice{}, defaultDevices...), s.cfg.Spec.Linux.Devices...)
	for _, d := range devs {
		if err := s.createDevice(d); err != nil {
			return fmt.Errorf("creating device %s: %w", d.Path, err)
		}
	}
	links := devSymlinks
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/dev/core", "/proc/kcore"})
	}
	for _, l := range links {
		// ptmx must point into the container's devpts instance, whatever
		// the image left there.
		if err := s.symlink(l[1], l[0]); err != nil {
			return fmt.Errorf("linking %s to %s: %w", l[0], l[1], err)
		}
	}
	return nil
}

// createDevice makes a node with mknod, or, where the kernel refuses
// mknod (in a user namespace), bind-mounts the host's node onto an empty
// file.
func (s *setup) createDevice(d specs.LinuxDevice) error {
	dir, name := path.Split(cleanRel(d.Path))
	dfd, err := mkdirAllInRoot(s.root, dir, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	mode, err := deviceMode(d)
	if err != nil {
		return err
	}
	// Whatever the image put at the path is replaced.
	if err := unix.Unlinkat(dfd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	err = unix.Mknodat(dfd, name, mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EPERM) {
		return s.bindDevice(d)
	}
	if err != nil {
		return err
	}
	// mknod honours the umask; the spec's mode is exact.
	if err := unix.Fchmodat(dfd, name, mode&0o7777, 0); err != nil {
		return err
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	return unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
}

func deviceMode(d specs.LinuxDevice) (uint32, error) {
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	switch d.Type {
	case "c", "u":
		return unix.S_IFCHR | perm, nil
	case "b":
		return unix.S_IFBLK | perm, nil
	case "p":
		return unix.S_IFIFO | perm, nil
	}
	return 0, fmt.Errorf("unknown device type %q", d.Type)
}

func (s *setup) bindDevice(d specs.LinuxDevice) error {
	fd, err := createFileInRoot(s.root, d.Path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Mount(d.Path, procFd(fd), "", unix.MS_BIND, "")
}

// symlink makes link (a path in the rootfs) point at target, replacing a
// file or link already there.
func (s *setup) symlink(target, link string) error {
	dir, name := path.Split(cleanRel(link))
	dfd, err := mkdirAllInRoot(s.root, dir, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := unix.Unlinkat(dfd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EISDIR) {
		return err
	}
	if err := unix.Symlinkat(target, dfd, name); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	return nil
}
