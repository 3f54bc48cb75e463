package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/mount"
)

// Temporary rootfs mounts of containers that are not running (export, cp)
// live under <runroot>/mounts:
//
//	<id12>-<rand>/       the mount point
//	<id12>-<rand>.lock   held by the process using the mount; it is locked
//	                     under a temporary name and renamed into place, so
//	                     a free lock always means a dead owner
//
// A process killed while it holds a mount leaves both; the next withRootfs
// finds the lock free and unmounts and removes them.
const mountsDir = "mounts"

// withRootfs runs fn with the path of c's root filesystem: the running
// container's mount under its bundle, or, for a container that is not
// running, its layers mounted for the call (read-only if asked) — never at
// the bundle's rootfs, which a start would take for its own. The caller
// holds c's lock, so no start mounts the same writable layer meanwhile.
func (e *Engine) withRootfs(ctx context.Context, c container.Container, readOnly bool, fn func(rootfs string) error) error {
	if c.Running() {
		rootfs := filepath.Join(e.bundle(c.ID), "rootfs")
		if ok, _ := mount.IsMountPoint(rootfs); ok {
			return fn(rootfs)
		}
	}
	ms, err := e.layers.Mounts(ctx, c.ID)
	if err != nil {
		return err
	}
	if readOnly {
		for i := range ms {
			ms[i].Options = append(slices.Clone(ms[i].Options), "ro")
		}
	}
	parent := filepath.Join(e.cfg.RunRoot, mountsDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	sweepMounts(parent)
	dir, release, err := claimMountDir(parent, c.ID[:12])
	if err != nil {
		return err
	}
	defer release()
	if err := mount.All(ms, dir); err != nil {
		return fmt.Errorf("mounting rootfs of container %s: %w", c.Name, err)
	}
	defer mount.UnmountAll(dir)
	return fn(dir)
}

// claimMountDir makes a locked mount point under parent; release unmounts
// nothing, it removes the directory and the lock.
func claimMountDir(parent, prefix string) (string, func(), error) {
	dir, err := os.MkdirTemp(parent, prefix+"-")
	if err != nil {
		return "", nil, err
	}
	tmp := dir + ".lock.tmp"
	l, err := lockfile.New(tmp)
	if err != nil {
		os.Remove(dir)
		return "", nil, err
	}
	l.Lock()
	release := func() {
		os.Remove(dir)
		os.Remove(dir + ".lock")
		os.Remove(tmp)
		l.Unlock()
		l.Close()
	}
	if err := os.Rename(tmp, dir+".lock"); err != nil {
		release()
		return "", nil, err
	}
	return dir, release, nil
}

// sweepMounts unmounts and removes what dead processes left under parent.
func sweepMounts(parent string) {
	entries, _ := os.ReadDir(parent)
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), ".lock")
		if !ok {
			continue
		}
		l, err := lockfile.New(filepath.Join(parent, ent.Name()))
		if err != nil {
			continue
		}
		if l.TryLock() {
			dir := filepath.Join(parent, name)
			if mount.UnmountAll(dir) == nil {
				os.Remove(dir)
				os.Remove(dir + ".lock")
			}
			l.Unlock()
		}
		l.Close()
	}
}
