package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// overlayMagic is overlayfs's statfs type (OVERLAYFS_SUPER_MAGIC).
const overlayMagic = 0x794c7630

// protectedExe opens the executable at path through an overlay mount made
// for it alone: read-only (no upper layer, MOUNT_ATTR_RDONLY) and detached
// (fsmount without move_mount: in no mount namespace, gone with the last
// descriptor). A container that reopens its init's /proc/<pid>/exe for
// writing reaches the overlay's file and gets EROFS; the host's binary,
// the lower layer, cannot be reached through it. It costs a few hundred
// microseconds where the memfd copy of a multi-megabyte binary costs
// milliseconds of CPU and its size in memory. The second lower layer that
// an overlay without an upper needs is an empty detached tmpfs, which
// cannot overlap the executable's directory.
func protectedExe(path string) (*os.File, error) {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	empty, err := detachedMount("tmpfs", nil, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(empty)
	lowers := []string{filepath.Dir(path), "/proc/self/fd/" + strconv.Itoa(empty)}
	mnt, err := detachedMount("overlay", lowers, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, err
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, filepath.Base(path), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s through a read-only overlay: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), "overlay:"+filepath.Base(path))
	if !readOnlyOverlay(f) {
		f.Close()
		return nil, fmt.Errorf("executable %s: the overlay is not read-only", path)
	}
	return f, nil
}

// detachedMount makes a mount of fstype, with lowers as overlay lower
// layers, that is attached nowhere, and returns its descriptor.
func detachedMount(fstype string, lowers []string, attrs int) (int, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fsfd)
	for _, l := range lowers {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", l); err != nil {
			return -1, fmt.Errorf("%s lowerdir+ %s: %w", fstype, l, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("creating %s: %w", fstype, err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return mnt, nil
}

// readOnlyOverlay says whether f lies on a read-only overlay mount, which
// no one can write through (protectedExe).
func readOnlyOverlay(f *os.File) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(int(f.Fd()), &st) == nil && st.Type == overlayMagic && st.Flags&unix.ST_RDONLY != 0
}
