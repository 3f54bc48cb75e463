// Package rootfs builds a container's file system view from an OCI spec:
// the spec's mounts, /dev, pivot_root into the rootfs, masked and
// read-only paths, a read-only root.
//
// It runs in the container's init, in the container's new mount namespace,
// before the workload starts; nothing it does is visible on the host,
// because the first step makes every mount of the namespace private (or the
// spec's rootfsPropagation). Every path of the rootfs is resolved with
// openat2(RESOLVE_IN_ROOT) and mounted through its /proc/thread-self/fd
// path, so symlinks in an untrusted image cannot redirect a mount to the
// host. After Prepare the process's root and working directory are the
// container's root and no descriptor of the host's file system is left
// open by this package.
package rootfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// Config is what Prepare and Finish need besides the spec.
type Config struct {
	Spec   *specs.Spec
	Rootfs string // absolute host path of the root file system
	Bundle string // relative bind-mount sources are relative to it
	// CgroupMounts describe the container's cgroup, for a mount of type
	// "cgroup" or "cgroup2" in the spec.
	CgroupMounts []cgroups.Mount
	// BeforePivot, if set, runs once the mounts and /dev are in place,
	// before pivot_root (the runtime's createRuntime/createContainer hooks).
	BeforePivot func() error
}

type setup struct {
	cfg  Config
	root int // O_PATH descriptor of the rootfs mount
}

// Prepare mounts everything of the spec into the rootfs, creates /dev and
// pivots into the rootfs. It must run in a fresh mount namespace.
func Prepare(ctx context.Context, cfg Config) error {
	if cfg.Spec.Linux == nil {
		cfg.Spec.Linux = &specs.Linux{}
	}
	if err := makePrivate(cfg.Spec.Linux.RootfsPropagation); err != nil {
		return err
	}
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting rootfs %s on itself: %w", cfg.Rootfs, err)
	}
	root, err := unix.Open(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening rootfs %s: %w", cfg.Rootfs, err)
	}
	s := &setup{cfg: cfg, root: root}
	err = s.populate(ctx)
	unix.Close(root)
	if err == nil && cfg.BeforePivot != nil {
		err = cfg.BeforePivot()
	}
	if err != nil {
		return err
	}
	return pivotRoot(cfg.Rootfs)
}

func (s *setup) populate(ctx context.Context) error {
	for _, m := range s.cfg.Spec.Mounts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.mountSpec(m); err != nil {
			return err
		}
	}
	if !s.hostDev() {
		return s.setupDev()
	}
	return nil
}

// hostDev reports whether the spec binds a /dev of its own, which then is
// left alone.
func (s *setup) hostDev() bool {
	for _, m := range s.cfg.Spec.Mounts {
		if filepath.Clean(m.Destination) == "/dev" && parseOptions(m).bind {
			return true
		}
	}
	return false
}

// makePrivate stops mount events from crossing between the host and the
// container in either direction: by default every mount becomes private.
func makePrivate(propagation string) error {
	flags := uintptr(unix.MS_REC | unix.MS_PRIVATE)
	switch propagation {
	case "", "shared", "rshared", "private", "rprivate", "unbindable", "runbindable":
		// Shared propagation is set on the new root at the end: pivot_root
		// refuses a shared parent mount.
	case "slave", "rslave":
		flags = unix.MS_REC | unix.MS_SLAVE
	default:
		return fmt.Errorf("unknown rootfs propagation %q", propagation)
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	return nil
}

// pivotRoot makes rootfs the root, with the old root stacked on it by
// pivot_root(".", ".") and then detached, so no path leads back to the host.
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening old root: %w", err)
	}
	defer unix.Close(oldroot)
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", rootfs, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", rootfs, err)
	}
	// "." is now the new root with the old one mounted over it; step onto
	// the old root, keep its unmount from propagating to the host, detach it.
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("fchdir to old root: %w", err)
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	return nil
}

// Finish applies what must come after the last write to the rootfs, in
// the container's root: read-only paths, masked paths, a read-only root
// and the rootfs propagation.
func Finish(ctx context.Context, spec *specs.Spec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	linux := spec.Linux
	if linux == nil {
		linux = &specs.Linux{}
	}
	for _, p := range linux.ReadonlyPaths {
		if err := readonlyPath(p); err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	for _, p := range linux.MaskedPaths {
		if err := maskPath(p); err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
	}
	if spec.Root != nil && spec.Root.Readonly {
		if err := remountPath("/", unix.MS_RDONLY); err != nil {
			return fmt.Errorf("making the root read-only: %w", err)
		}
	}
	if p := propagationOptions[linux.RootfsPropagation]; p != 0 {
		if err := unix.Mount("", "/", "", p, ""); err != nil {
			return fmt.Errorf("setting rootfs propagation %s: %w", linux.RootfsPropagation, err)
		}
	}
	return nil
}

// readonlyPath bind-mounts p on itself read-only; a path the container
// does not have needs no protection.
func readonlyPath(p string) error {
	err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, "")
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	return remountPath(p, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
}

func remountPath(p string, flags uintptr) error {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// After pivot_root the path itself is the target: the container's
	// /proc, which would resolve an fd path, may not be mounted.
	return remountFd(p, fd, flags)
}

// maskPath hides p: /dev/null over a file, an empty read-only tmpfs over a
// directory.
func maskPath(p string) error {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "")
	}
	return unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
}
