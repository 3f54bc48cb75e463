package volume

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// CopyUp fills the empty volume directory dst with what the container's
// rootfs holds at path, docker's rule for a volume mounted over image
// content: only when dst is empty, with owners, modes, times, symlinks,
// device nodes and hard links kept (extended attributes are not copied).
// dst's own owner and mode become those of the directory at path. A path
// that is missing or not a directory copies nothing.
//
// path is resolved inside rootfs (openat2 RESOLVE_IN_ROOT) and the tree is
// walked through directory descriptors without following symlinks, so an
// image's symlink cannot make the copy read the host's files. The copy runs
// before the container's process exists, so nothing changes under it.
func CopyUp(rootfs, path, dst string) error {
	empty, err := isEmptyDir(dst)
	if err != nil || !empty {
		return err
	}
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening rootfs: %w", err)
	}
	defer unix.Close(root)
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(root, strings.TrimLeft(filepath.Clean("/"+path), "/")+"/.", &how)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s in the container: %w", path, err)
	}
	c := copier{links: map[[2]uint64]string{}}
	dir := os.NewFile(uintptr(fd), path)
	defer dir.Close()
	if err := c.copyDir(dir, dst); err != nil {
		return fmt.Errorf("copying %s into the volume: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	return setMeta(dst, &st, false)
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// copier copies one tree; links maps a (device, inode) with several links
// to the first copy made of it.
type copier struct {
	links map[[2]uint64]string
}

// copyDir copies the entries of the open directory src into the existing
// directory dst.
func (c *copier) copyDir(src *os.File, dst string) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return err
	}
	srcFd := int(src.Fd())
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(srcFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if err := c.copyEntry(srcFd, name, filepath.Join(dst, name), &st); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) copyEntry(dirFd int, name, dst string, st *unix.Stat_t) error {
	key := [2]uint64{st.Dev, st.Ino}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
		if first, ok := c.links[key]; ok {
			return os.Link(first, dst)
		}
		c.links[key] = dst
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		sub := os.NewFile(uintptr(fd), name)
		err = c.copyDir(sub, dst)
		sub.Close()
		if err != nil {
			return err
		}
	case unix.S_IFREG:
		if err := copyFile(dirFd, name, dst); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkat(dirFd, name)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		return setMeta(dst, st, true)
	default: // devices, fifos, sockets
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	}
	return setMeta(dst, st, false)
}

func copyFile(dirFd int, name, dst string) error {
	fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	in := os.NewFile(uintptr(fd), name)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func readlinkat(dirFd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirFd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// setMeta gives path the owner, mode and times of st; the mode is set after
// the owner, since chown clears set-user-ID bits.
func setMeta(path string, st *unix.Stat_t, symlink bool) error {
	times := []unix.Timespec{st.Atim, st.Mtim}
	if symlink {
		if err := unix.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, path, times, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err := unix.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := unix.Chmod(path, st.Mode&07777); err != nil {
		return err
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, times, 0)
}
