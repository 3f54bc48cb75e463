package archive

import (
	"archive/tar"
	"strconv"

	"golang.org/x/sys/unix"
)

// opaqueXattr marks an overlay directory that hides the lower layers' content.
const opaqueXattr = "trusted.overlay.opaque"

// whiteout applies ".wh.<target>" found in parent.
func (a *applier) whiteout(hdr *tar.Header, name, parent, target string) error {
	tname := join(parent, target)
	if a.mode == WhiteoutOverlay {
		return a.overlayWhiteout(hdr, name, parent, target, tname)
	}
	pfd, err := a.d.open(parent, false)
	if err == unix.ENOENT || err == unix.ENOTDIR {
		return nil // nothing there to delete
	}
	if err != nil {
		return resolveErr(name, parent, err)
	}
	if err := removeAllAt(pfd, target); err != nil {
		return entryErr(name, "deleting "+tname, err)
	}
	a.d.forget(tname)
	return nil
}

// overlayWhiteout writes overlayfs's whiteout: a 0/0 character device with
// the whiteout's owner and times, replacing anything at its name.
func (a *applier) overlayWhiteout(hdr *tar.Header, name, parent, target, tname string) error {
	pfd, err := a.d.open(parent, true)
	if err != nil {
		return resolveErr(name, parent, err)
	}
	err = unix.Mknodat(pfd, target, unix.S_IFCHR, 0)
	if err == unix.EEXIST {
		if err = a.clear(pfd, tname, target); err != nil {
			return err
		}
		err = unix.Mknodat(pfd, target, unix.S_IFCHR, 0)
	}
	if err != nil {
		return entryErr(name, "creating whiteout", err)
	}
	if a.needChown(hdr) {
		if err := unix.Fchownat(pfd, target, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return entryErr(name, "changing owner", err)
		}
	}
	return a.times(pfd, name, target, hdr)
}

// opaque applies ".wh..wh..opq" found in parent: overlay marks the directory,
// delete mode removes every child this apply did not write.
func (a *applier) opaque(name, parent string) error {
	if a.mode == WhiteoutOverlay {
		pfd, err := a.d.open(parent, true)
		if err != nil {
			return resolveErr(name, parent, err)
		}
		// setxattr follows the descriptor's magic link to the directory
		// itself; the descriptor may be O_PATH, which fsetxattr refuses.
		if err := unix.Setxattr("/proc/self/fd/"+strconv.Itoa(pfd), opaqueXattr, []byte("y"), 0); err != nil {
			return entryErr(name, "marking directory opaque", err)
		}
		return nil
	}
	pfd, err := a.d.open(parent, false)
	if err == unix.ENOENT || err == unix.ENOTDIR {
		return nil
	}
	if err != nil {
		return resolveErr(name, parent, err)
	}
	err = emptyDirAt(pfd, ".", func(child string) (bool, bool) {
		_, ok := a.seen[join(parent, child)]
		return ok, ok
	})
	a.d.forgetBelow(parent)
	if err != nil {
		return entryErr(name, "emptying opaque directory", err)
	}
	return nil
}
