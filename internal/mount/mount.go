// Package mount describes mounts as values and performs them.
//
// The layer store returns []Mount instead of mounting, so that its logic is
// testable without privileges and the runtime (or a test) decides where and
// when to mount. Overlay mounts use the kernel's fsopen/fsconfig interface and
// add each lower directory separately ("lowerdir+"), so an image of any depth
// mounts without hitting the one-page limit of mount(2)'s data string. On a
// kernel without "lowerdir+" (before 6.8) overlay falls back to mount(2) when
// the options fit in a page.
//
// An overlay with the option IdmapLowersOption makes has each lower
// directory cloned into a detached mount idmapped through a user namespace
// made for it (idmap.go), so that image layers owned by host root appear
// owned by a remapped container's root; the option never reaches the
// kernel, and the mount(2) fallback refuses it.
//
// Everything else goes through mount(2): "bind" mounts (Options "rbind" for a
// recursive bind, "ro"/"nosuid"/"nodev"/"noexec" applied afterwards, since
// the kernel ignores them on the bind itself) and other file systems (tmpfs,
// proc, ...) whose flag options become mount flags and whose other options
// become the data string.
package mount

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount is one mount: what mount(8) would take as -t Type -o Options Source.
// For overlay, Options holds "lowerdir=a:b:c" (topmost first; a ':' inside a
// path is escaped as `\:`, see EscapeLowerDir), "upperdir=", "workdir=" and
// plain flags; bind mounts have Type "bind".
type Mount struct {
	Type    string   `json:"type"`
	Source  string   `json:"source"`
	Options []string `json:"options,omitempty"`
}

// Mount mounts m on target (which must exist).
func (m Mount) Mount(target string) error {
	var err error
	switch m.Type {
	case "overlay":
		err = m.mountOverlay(target)
	case "bind":
		err = m.mountBind(target)
	default:
		err = m.mountPlain(target)
	}
	if err != nil {
		return fmt.Errorf("mounting %s %q on %s: %w", m.Type, m.Source, target, err)
	}
	return nil
}

// All mounts ms on target in order, unmounting what it mounted on failure.
func All(ms []Mount, target string) error {
	for i, m := range ms {
		if err := m.Mount(target); err != nil {
			for range i {
				// The mounts are stacked on target: each Unmount takes off
				// the topmost one.
				_ = Unmount(target)
			}
			return err
		}
	}
	return nil
}

// Unmount unmounts target, detaching lazily if it is busy (MNT_DETACH), and
// treats "not mounted" as success so cleanup paths can call it blindly.
func Unmount(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("unmounting %s: %w", target, err)
		}
	}
}

// UnmountAll unmounts every mount stacked on target (what All mounted, say),
// until target is no longer a mount point. Like Unmount, it succeeds when
// nothing is mounted.
func UnmountAll(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		switch {
		case err == nil, errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("unmounting %s: %w", target, err)
		}
	}
}

// IsMountPoint reports whether path is a mount point. It asks statx for
// STATX_ATTR_MOUNT_ROOT (one syscall) and reads /proc/self/mountinfo only on
// kernels that do not report that attribute. Symlinks in path are followed.
func IsMountPoint(path string) (bool, error) {
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_NO_AUTOMOUNT, unix.STATX_TYPE, &stx)
	if err != nil {
		return false, fmt.Errorf("statx %s: %w", path, err)
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
	}
	return inMountinfo(path)
}

// EscapeLowerDir escapes a directory for a "lowerdir=" list, where ':'
// separates entries (overlayfs's own escaping, which its parser undoes).
func EscapeLowerDir(dir string) string {
	return strings.ReplaceAll(strings.ReplaceAll(dir, `\`, `\\`), ":", `\:`)
}

// splitLowerDirs undoes the joining of EscapeLowerDir'd directories with ':'.
func splitLowerDirs(list string) []string {
	var dirs []string
	var cur strings.Builder
	for i := 0; i < len(list); i++ {
		switch c := list[i]; {
		case c == '\\' && i+1 < len(list):
			i++
			cur.WriteByte(list[i])
		case c == ':':
			dirs = append(dirs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(dirs, cur.String())
}
