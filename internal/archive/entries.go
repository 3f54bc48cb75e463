package archive

import (
	"archive/tar"
	"io"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Every entry is created relative to the descriptor of its parent, never
// following a symlink at its own name (O_EXCL, O_NOFOLLOW, the *at calls'
// no-follow flags). If the name exists, the old file is removed and the
// creation retried once.

const createFile = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC

func (a *applier) regular(pfd int, name, base string, hdr *tar.Header, r io.Reader) error {
	mode := perm(hdr)
	fd, err := unix.Openat(pfd, base, createFile, mode&0o777)
	if err == unix.EEXIST {
		if err = a.clear(pfd, name, base); err != nil {
			return err
		}
		fd, err = unix.Openat(pfd, base, createFile, mode&0o777)
	}
	if err != nil {
		return entryErr(name, "creating file", err)
	}
	// The order of the metadata matters: chown clears setuid/setgid and
	// file capabilities, so mode and xattrs come after it (see job.do).
	meta := fileMeta{
		uid: hdr.Uid, gid: hdr.Gid, mode: mode, times: timespecs(hdr),
		chown: a.needNewChown(pfd, hdr), chmod: a.needChmod(mode),
	}
	if len(hdr.PAXRecords) > 0 {
		meta.hdr = hdr
	}
	n, err := a.wb.file(fd, name, r, hdr.Size, meta)
	a.written += n
	return err
}

func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// needChown is false only where the existing file already has the right
// owner without privilege (an unprivileged apply of its own files); for a
// file the apply creates, needNewChown knows more.
func (a *applier) needChown(hdr *tar.Header) bool {
	return a.euid == 0 || hdr.Uid != a.euid || hdr.Gid != a.egid
}

// needNewChown is needChown for a file this apply has just created in the
// directory pfd: it was made with the process's owner, and with its group
// unless pfd is setgid, so as root too an entry of that owner (a build's
// COPY: 0:0) needs no chown.
func (a *applier) needNewChown(pfd int, hdr *tar.Header) bool {
	if hdr.Uid != a.euid || hdr.Gid != a.egid {
		return true
	}
	return a.d.setgid(pfd)
}

// needChmod is false when creating with mode, through the umask, already
// gave exactly mode.
func (a *applier) needChmod(mode uint32) bool {
	return mode&^0o777 != 0 || mode&a.umask != 0
}

// nodeMeta restores owner, mode and xattrs on base in pfd, which was just
// created and is not a symlink.
func (a *applier) nodeMeta(pfd int, name, base string, mode uint32, hdr *tar.Header, chmod bool) error {
	if a.needChown(hdr) {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return entryErr(name, "changing owner", err)
		}
	}
	if chmod || a.needChmod(mode) {
		if err := chmodAt(pfd, base, mode); err != nil {
			return entryErr(name, "changing mode", err)
		}
	}
	if len(hdr.PAXRecords) > 0 {
		if err := setXattrsAt(pfd, base, hdr); err != nil {
			return entryErr(name, "setting xattrs", err)
		}
	}
	return nil
}

// dir creates a directory, or merges into one that exists: its metadata
// becomes the entry's, its content stays. Its mode is always set: a new
// directory inherits the setgid bit of its parent.
func (a *applier) dir(pfd int, name, base string, hdr *tar.Header) error {
	mode, final := perm(hdr), perm(hdr)
	if a.euid != 0 && mode&0o700 != 0o700 {
		// Without privilege a directory we cannot write or search would
		// refuse its own content: it gets its mode at the end.
		mode = 0o700
	}
	err := unix.Mkdirat(pfd, base, mode&0o777)
	if err == unix.EEXIST {
		var st unix.Stat_t
		err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err = a.clear(pfd, name, base); err != nil {
				return err
			}
			err = unix.Mkdirat(pfd, base, mode&0o777)
		}
	}
	if err != nil {
		return entryErr(name, "creating directory", err)
	}
	a.d.modesChanged()
	if err := a.nodeMeta(pfd, name, base, mode, hdr, true); err != nil {
		return err
	}
	a.pending[name] = dirFinish{times: timespecs(hdr), mode: final, chmod: mode != final}
	return nil
}

func (a *applier) symlink(pfd int, name, base string, hdr *tar.Header) error {
	if hdr.Linkname == "" {
		return errdefs.Invalid("layer entry %q: symlink with an empty target", name)
	}
	err := unix.Symlinkat(hdr.Linkname, pfd, base)
	if err == unix.EEXIST {
		if err = a.clear(pfd, name, base); err != nil {
			return err
		}
		err = unix.Symlinkat(hdr.Linkname, pfd, base)
	}
	if err != nil {
		return entryErr(name, "creating symlink", err)
	}
	if a.needNewChown(pfd, hdr) {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return entryErr(name, "changing owner", err)
		}
	}
	if len(hdr.PAXRecords) > 0 {
		if err := setXattrsAt(pfd, base, hdr); err != nil {
			return entryErr(name, "setting xattrs", err)
		}
	}
	return a.times(pfd, name, base, hdr)
}

func (a *applier) times(pfd int, name, base string, hdr *tar.Header) error {
	if err := setTimes(pfd, base, timespecs(hdr)); err != nil {
		return entryErr(name, "setting times", err)
	}
	return nil
}

// node creates a character or block device or a fifo.
func (a *applier) node(pfd int, name, base string, hdr *tar.Header) error {
	mode := perm(hdr)
	typ := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		typ = unix.S_IFCHR
	case tar.TypeBlock:
		typ = unix.S_IFBLK
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	err := unix.Mknodat(pfd, base, typ|mode&0o777, dev)
	if err == unix.EEXIST {
		if err = a.clear(pfd, name, base); err != nil {
			return err
		}
		err = unix.Mknodat(pfd, base, typ|mode&0o777, dev)
	}
	if err != nil {
		return entryErr(name, "creating device node", err)
	}
	if err := a.nodeMeta(pfd, name, base, mode, hdr, false); err != nil {
		return err
	}
	return a.times(pfd, name, base, hdr)
}

// hardlink links name to another path of the tree. The target is resolved
// beneath the target directory like any parent; linkat does not follow a
// symlink at the target's own name, it links the symlink itself.
func (a *applier) hardlink(pfd int, name, base string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil || target == "" {
		return errdefs.Invalid("layer entry %q: hardlink target %q is not a path inside the layer", name, hdr.Linkname)
	}
	if target == name {
		return nil
	}
	tparent, tbase := split(target)
	tfd := a.d.root
	if tparent != "" {
		if tfd, err = openBeneath(a.d.root, tparent); err == unix.ENOENT {
			return errdefs.Invalid("layer entry %q: hardlink target %q does not exist", name, target)
		} else if err != nil {
			return resolveDirErr(name, "hardlink target's directory", tparent, err)
		}
		defer unix.Close(tfd)
	}
	err = unix.Linkat(tfd, tbase, pfd, base, 0)
	if err == unix.EEXIST {
		if err = a.clear(pfd, name, base); err != nil {
			return err
		}
		err = unix.Linkat(tfd, tbase, pfd, base, 0)
	}
	if err == unix.ENOENT {
		return errdefs.Invalid("layer entry %q: hardlink target %q does not exist", name, target)
	}
	if err != nil {
		return entryErr(name, "linking to "+target, err)
	}
	return nil
}
