package engine

import (
	"errors"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// A copy path is resolved inside a root, the container's rootfs or the
// host's "/", with openat2 RESOLVE_IN_ROOT: every symlink met, absolute or
// relative, is resolved as if the root were "/", so a container's symlink
// can never lead a copy out of its rootfs (the CVE-2018-15664 class), and
// the files are then read and written through the descriptors found, never
// through a path the container could swap meanwhile.

// root is a directory copy paths are resolved in.
type root struct {
	f    *os.File
	path string // the root's host path, to name paths found below it
}

func openRoot(p string) (*root, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	// The kernel's name for it: the one /proc/self/fd gives its children.
	real, err := os.Readlink(fdPath(f))
	if err != nil {
		f.Close()
		return nil, err
	}
	return &root{f: f, path: real}, nil
}

func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

func (r *root) close() { r.f.Close() }

const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openDir opens the directory p (relative to the root, symlinks resolved
// inside it) for reading.
func (r *root) openDir(p string) (*os.File, error) {
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: inRoot}
	for try := 0; ; try++ {
		fd, err := unix.Openat2(int(r.f.Fd()), p, &how)
		if (err == unix.EAGAIN || err == unix.EINTR) && try < 100 {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		return os.NewFile(uintptr(fd), p), nil
	}
}

// entry is a name in a directory found in a root.
type entry struct {
	dir  *os.File // the directory holding name, open for reading
	name string   // "." for the root itself
	st   unix.Stat_t
}

func (e *entry) close()      { e.dir.Close() }
func (e *entry) isDir() bool { return e.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// lookup finds p in the root. With follow, a symlink at p's last element
// is followed too (inside the root), up to 40 times, as the kernel does.
// A missing p is an error wrapping os.ErrNotExist.
func (r *root) lookup(p string, follow bool) (*entry, error) {
	p = path.Clean("/" + p)
	for hops := 0; ; hops++ {
		parent, base := path.Split(p)
		if p == "/" {
			parent, base = "/", "."
		}
		dir, err := r.openDir(parent)
		if err != nil {
			return nil, err
		}
		e := &entry{dir: dir, name: base}
		if err := unix.Fstatat(int(dir.Fd()), base, &e.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			dir.Close()
			return nil, &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		if !follow || e.st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return e, nil
		}
		next, err := r.linkTarget(e)
		e.close()
		if err != nil {
			return nil, err
		}
		if hops == 40 {
			return nil, &os.PathError{Op: "lstat", Path: p, Err: unix.ELOOP}
		}
		p = next
	}
}

// linkTarget is where the symlink e points, as a path in the root: a
// relative target is taken from the directory the link really is in.
func (r *root) linkTarget(e *entry) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(e.dir.Fd()), e.name, buf)
	if err != nil {
		return "", err
	}
	target := string(buf[:n])
	if path.IsAbs(target) {
		return target, nil
	}
	where, err := os.Readlink(fdPath(e.dir))
	if err != nil {
		return "", err
	}
	switch {
	case r.path == "/":
		return path.Join(where, target), nil
	case where == r.path:
		return path.Join("/", target), nil
	case strings.HasPrefix(where, r.path+"/"):
		return path.Join("/", strings.TrimPrefix(where, r.path), target), nil
	}
	return "", errdefs.Invalid("symlink %q: its directory %s is outside %s", e.name, where, r.path)
}

// copyPath is a path of `cp` split as docker reads it.
type copyPath struct {
	clean        string // absolute, cleaned
	contentsOnly bool   // ends in "/.": the directory's content, not itself
	dirOnly      bool   // ends in "/": must be a directory
}

func parseCopyPath(p string) copyPath {
	cp := copyPath{clean: path.Clean("/" + p)}
	cp.contentsOnly = p == "." || strings.HasSuffix(p, "/.")
	cp.dirOnly = strings.HasSuffix(p, "/") || cp.contentsOnly
	return cp
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// openDirAt opens the directory e names (never through a symlink) as an
// entry for "." in it, for listing and as the target of an extraction.
func openDirAt(e *entry) (*entry, error) {
	fd, err := unix.Openat(int(e.dir.Fd()), e.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: e.name, Err: err}
	}
	d := &entry{dir: os.NewFile(uintptr(fd), e.name), name: "."}
	if err := unix.Fstat(fd, &d.st); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}
