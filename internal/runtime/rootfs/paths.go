package rootfs

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The helpers below resolve paths of the container's rootfs as the
// container would: symlinks are followed as if the rootfs were "/"
// (openat2's RESOLVE_IN_ROOT), so a rootfs that links /dev to /host/etc
// cannot make a mount land outside it, and magic links (/proc/self/root)
// are refused. Mounts then target /proc/thread-self/fd/N of the resolved
// O_PATH descriptor, so the checked path and the mounted one are the same.

const resolveInRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openInRoot opens p (relative to root, which is an fd of the rootfs).
func openInRoot(root int, p string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolveInRoot}
	for {
		fd, err := unix.Openat2(root, cleanRel(p), &how)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil {
			return -1, &pathError{op: "openat2", path: p, err: err}
		}
		return fd, nil
	}
}

// mkdirAllInRoot creates directory p and its missing parents inside root
// and returns an O_PATH descriptor of it.
func mkdirAllInRoot(root int, p string, mode uint32) (int, error) {
	fd, err := unix.Dup(root)
	if err != nil {
		return -1, fmt.Errorf("dup rootfs fd: %w", err)
	}
	cur := ""
	for _, part := range strings.Split(cleanRel(p), "/") {
		if part == "." {
			continue
		}
		cur = path.Join(cur, part)
		next, err := openInRoot(root, cur, unix.O_PATH|unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			// fd is the parent as resolved in root; create the missing
			// component there and resolve it again.
			if err := unix.Mkdirat(fd, part, mode); err != nil && !errors.Is(err, unix.EEXIST) {
				unix.Close(fd)
				return -1, &pathError{op: "mkdir", path: cur, err: err}
			}
			next, err = openInRoot(root, cur, unix.O_PATH|unix.O_DIRECTORY)
		}
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// createFileInRoot makes sure file p exists inside root (creating an empty
// one and its parent directories) and returns an O_PATH descriptor of it.
func createFileInRoot(root int, p string) (int, error) {
	dir, name := path.Split(cleanRel(p))
	dfd, err := mkdirAllInRoot(root, dir, 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	if fd, err := openInRoot(root, p, unix.O_PATH); err == nil {
		return fd, nil
	}
	f, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &pathError{op: "create", path: p, err: err}
	}
	if err == nil {
		unix.Close(f)
	}
	return openInRoot(root, p, unix.O_PATH)
}

// procFd is the path of fd as mount(2) and friends can use it.
func procFd(fd int) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(fd)
}

// cleanRel makes p relative to the rootfs ("/dev/../etc" → "etc").
func cleanRel(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

// pathError names a path inside the container, which is what a user
// reading the error knows, rather than the host path or a /proc fd.
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.path, e.err) }
func (e *pathError) Unwrap() error { return e.err }
