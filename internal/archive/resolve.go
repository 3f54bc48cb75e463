package archive

import (
	"errors"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// beneath resolves a path inside the target directory: never above it, never
// through a symlink (the kernel enforces both, atomically with the lookup).
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openBeneath opens the directory rel beneath root as an O_PATH descriptor,
// usable as the dirfd of *at calls.
func openBeneath(root int, rel string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath}
	for try := 0; ; try++ {
		fd, err := unix.Openat2(root, rel, &how)
		// EAGAIN: a concurrent rename raced the lookup; EINTR: a signal.
		if (err == unix.EAGAIN || err == unix.EINTR) && try < 100 {
			continue
		}
		return fd, err
	}
}

// dirs hands out descriptors of directories beneath the target and caches
// the last one: a tar lists siblings together, so most entries reuse their
// predecessor's parent and cost no path lookup.
type dirs struct {
	root     int // the target directory itself (a full descriptor, not O_PATH)
	lastPath string
	lastFd   int // -1 when nothing is cached

	// sgidFd is the descriptor whose setgid bit sgid caches (-1: none).
	sgidFd int
	sgid   bool
}

func openDirs(dir string) (*dirs, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &dirs{root: fd, lastFd: -1, sgidFd: -1}, nil
}

// open returns a descriptor of the directory rel ("" is the target), owned
// by d: it stays valid until the next call to open or forget. With create,
// missing directories on the way are made (0755, as tar does).
func (d *dirs) open(rel string, create bool) (int, error) {
	if rel == "" {
		return d.root, nil
	}
	if d.lastFd >= 0 && rel == d.lastPath {
		return d.lastFd, nil
	}
	fd, err := openBeneath(d.root, rel)
	if err == unix.ENOENT && create {
		fd, err = d.mkdirAll(rel)
	}
	if err != nil {
		return -1, err
	}
	d.drop()
	d.lastPath, d.lastFd = rel, fd
	return fd, nil
}

// mkdirAll creates rel and its missing parents and opens it.
func (d *dirs) mkdirAll(rel string) (int, error) {
	fd, err := openBeneath(d.root, rel)
	if err != unix.ENOENT {
		return fd, err
	}
	parent, base := split(rel)
	pfd := d.root
	if parent != "" {
		if pfd, err = d.mkdirAll(parent); err != nil {
			return -1, err
		}
		defer unix.Close(pfd)
	}
	if err := unix.Mkdirat(pfd, base, 0o755); err == nil {
		// mkdir's mode went through the umask; tar's implicit parents are 0755.
		if err := unix.Fchmodat(pfd, base, 0o755, 0); err != nil {
			return -1, err
		}
	} else if err != unix.EEXIST {
		return -1, err
	}
	return unix.Openat(pfd, base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// forget drops the cached descriptor if it is rel or lies below it: rel was
// removed, and a descriptor of a removed directory would swallow writes.
func (d *dirs) forget(rel string) {
	if d.lastFd >= 0 && (d.lastPath == rel || strings.HasPrefix(d.lastPath, rel+"/")) {
		d.drop()
	}
}

// forgetBelow drops the cached descriptor if it lies strictly below rel.
func (d *dirs) forgetBelow(rel string) {
	if d.lastFd >= 0 && (rel == "" || strings.HasPrefix(d.lastPath, rel+"/")) {
		d.drop()
	}
}

func (d *dirs) drop() {
	d.sgidFd = -1
	if d.lastFd >= 0 {
		unix.Close(d.lastFd)
		d.lastFd, d.lastPath = -1, ""
	}
}

func (d *dirs) close() {
	d.drop()
	unix.Close(d.root)
}

// removeAllAt removes name in the directory dfd and, if it is a directory,
// everything below it. It works on descriptors only and never follows a
// symlink, so it cannot be steered out of dfd. A missing name is no error.
func removeAllAt(dfd int, name string) error {
	err := unix.Unlinkat(dfd, name, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR {
		return err
	}
	if err := emptyDirAt(dfd, name, nil); err != nil {
		return err
	}
	if err := unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return err
	}
	return nil
}

// emptyDirAt removes the children of the directory name in dfd for which
// keep (if not nil) returns false; keep also sees the kept subdirectories'
// children, through descend, so a kept directory is emptied selectively.
func emptyDirAt(dfd int, name string, keep func(child string) (keep, descend bool)) error {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	for {
		names, err := f.Readdirnames(1024)
		for _, n := range names {
			if err := removeChild(fd, n, keep); err != nil {
				return err
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func removeChild(fd int, n string, keep func(string) (bool, bool)) error {
	if keep == nil {
		return removeAllAt(fd, n)
	}
	k, descend := keep(n)
	if !k {
		return removeAllAt(fd, n)
	}
	if !descend {
		return nil
	}
	err := emptyDirAt(fd, n, func(c string) (bool, bool) { return keep(n + "/" + c) })
	if err == unix.ENOTDIR || err == unix.ELOOP {
		return nil // a kept file or symlink has no children
	}
	return err
}

// setgid reports whether the directory open as fd (from open) has the
// setgid bit, which gives new files its group instead of the creator's.
// The answer is cached until the next directory entry or drop; true if fd
// cannot be read (callers then restore the owner, which is always right).
func (d *dirs) setgid(fd int) bool {
	if fd != d.sgidFd {
		var st unix.Stat_t
		d.sgid = unix.Fstat(fd, &st) != nil || st.Mode&unix.S_ISGID != 0
		d.sgidFd = fd
	}
	return d.sgid
}

// modesChanged drops the cached setgid bit: a directory entry may have
// changed the mode of a directory that open has cached.
func (d *dirs) modesChanged() { d.sgidFd = -1 }
