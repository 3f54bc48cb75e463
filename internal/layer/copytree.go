package layer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// copyTree copies the tree at src into dst, an existing empty directory, as
// the vfs driver needs it: everything a layer tar can describe is kept
// (owners, modes with setuid/setgid/sticky, times, xattrs including
// security.capability, symlinks, devices, fifos, hardlinks within the
// tree). File data is reflinked where the file system can, else copied in
// the kernel (copy_file_range).
func copyTree(ctx context.Context, dst, src string) error {
	c := copier{ctx: ctx, links: make(map[inode]string)}
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := c.copyDir(dst, src); err != nil {
		return err
	}
	return c.setMeta(dst, src, &st)
}

type inode struct{ dev, ino uint64 }

type copier struct {
	ctx   context.Context
	links map[inode]string // first copy of each multiply-linked file
	xbuf  []byte
}

// copyDir copies the entries of src into dst; directories' own metadata is
// set after their contents, since adding entries changes their mtime.
func (c *copier) copyDir(dst, src string) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if err := c.copyEntry(d, s); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) copyEntry(dst, src string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err = os.Mkdir(dst, 0o700); err == nil {
			err = c.copyDir(dst, src)
		}
	case unix.S_IFREG:
		linked, lerr := c.link(dst, &st)
		if linked || lerr != nil {
			return lerr
		}
		err = copyFile(dst, src)
	case unix.S_IFLNK:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	default: // devices, fifos, sockets
		err = unix.Mknod(dst, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return c.setMeta(dst, src, &st)
}

// link makes dst a hardlink to the copy of an inode met before, and reports
// whether it did.
func (c *copier) link(dst string, st *unix.Stat_t) (bool, error) {
	if st.Nlink < 2 {
		return false, nil
	}
	key := inode{dev: st.Dev, ino: st.Ino}
	if first, ok := c.links[key]; ok {
		if err := os.Link(first, dst); err != nil {
			return false, fmt.Errorf("linking %s: %w", dst, err)
		}
		return true, nil
	}
	c.links[key] = dst
	return false, nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) != nil {
		// os.File.ReadFrom uses copy_file_range: no copy through user space.
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

// setMeta gives dst the owner, mode, xattrs and times of src. The order
// matters: chown clears setuid bits and security.capability, so mode and
// xattrs come after it, and times come last since the others touch ctime
// and xattrs may touch mtime.
func (c *copier) setMeta(dst, src string, st *unix.Stat_t) error {
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if !isLink {
		if err := unix.Fchmodat(unix.AT_FDCWD, dst, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
	}
	if err := c.copyXattrs(dst, src); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times of %s: %w", dst, err)
	}
	return nil
}

func (c *copier) copyXattrs(dst, src string) error {
	names, err := c.listXattrs(src)
	if err != nil {
		return err
	}
	for _, name := range names {
		value, err := c.getXattr(src, name)
		if err != nil {
			return err
		}
		if err := unix.Lsetxattr(dst, name, value, 0); err != nil {
			return fmt.Errorf("setting xattr %s on %s: %w", name, dst, err)
		}
	}
	return nil
}

func (c *copier) listXattrs(path string) ([]string, error) {
	buf, err := c.xattrCall(func(b []byte) (int, error) { return unix.Llistxattr(path, b) })
	if err != nil {
		return nil, fmt.Errorf("listing xattrs of %s: %w", path, err)
	}
	var names []string
	for len(buf) > 0 {
		i := 0
		for i < len(buf) && buf[i] != 0 {
			i++
		}
		if i > 0 {
			names = append(names, string(buf[:i]))
		}
		buf = buf[min(i+1, len(buf)):]
	}
	return names, nil
}

func (c *copier) getXattr(path, name string) ([]byte, error) {
	v, err := c.xattrCall(func(b []byte) (int, error) { return unix.Lgetxattr(path, name, b) })
	if err != nil {
		return nil, fmt.Errorf("reading xattr %s of %s: %w", name, path, err)
	}
	return append([]byte(nil), v...), nil
}

// xattrCall runs an xattr read into the copier's buffer, growing it when
// the value does not fit. File systems without xattrs read as empty.
func (c *copier) xattrCall(call func([]byte) (int, error)) ([]byte, error) {
	if c.xbuf == nil {
		c.xbuf = make([]byte, 4096)
	}
	for {
		n, err := call(c.xbuf)
		switch {
		case err == nil:
			return c.xbuf[:n], nil
		case errors.Is(err, unix.ERANGE):
			size, serr := call(nil)
			if serr != nil {
				return nil, serr
			}
			c.xbuf = make([]byte, max(size, 2*len(c.xbuf)))
		case errors.Is(err, unix.ENOTSUP):
			return nil, nil
		default:
			return nil, err
		}
	}
}
