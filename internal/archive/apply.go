package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// applier holds the state of one Apply.
type applier struct {
	d       *dirs
	mode    WhiteoutMode
	wb      *writeBehind // finishes regular files
	waited  bool
	written int64 // bytes of regular-file content
	// pending directories get their times last: writing their children
	// changes their mtime.
	pending map[string]dirFinish
	// seen holds, for WhiteoutDelete, every path this apply created and their
	// parents: an opaque directory keeps them and loses everything else.
	seen  map[string]struct{}
	umask uint32 // the process's umask, to skip chmods that change nothing
	euid  int
	egid  int
}

func newApplier(d *dirs, opts ApplyOptions) *applier {
	a := &applier{
		d:       d,
		mode:    opts.Whiteouts,
		wb:      startWriteBehind(),
		pending: make(map[string]dirFinish),
		umask:   readUmask(),
		euid:    os.Geteuid(),
		egid:    os.Getegid(),
	}
	if a.mode == WhiteoutDelete {
		a.seen = make(map[string]struct{})
	}
	return a
}

// wait lets the write-behind worker finish and returns its first error.
func (a *applier) wait() error {
	if a.waited {
		return nil
	}
	a.waited = true
	return a.wb.wait()
}

func (a *applier) close() {
	a.wait()
	a.d.close()
}

// entry applies one tar entry; r reads its content.
func (a *applier) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil || name == "" {
		// "./" itself is skipped, as Docker does: a layer does not get to
		// change the mode or owner of the directory it is unpacked into.
		return err
	}
	parent, base := split(name)
	kind, target, err := classify(name, parent, base)
	switch {
	case err != nil:
		return err
	case kind == kindSkip:
		return nil
	case kind == kindWhiteout:
		return a.whiteout(hdr, name, parent, target)
	case kind == kindOpaque:
		return a.opaque(name, parent)
	}
	pfd, err := a.d.open(parent, true)
	if err != nil {
		return resolveErr(name, parent, err)
	}
	a.markSeen(name)
	return a.create(pfd, name, base, hdr, r)
}

func (a *applier) create(pfd int, name, base string, hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		return a.regular(pfd, name, base, hdr, r)
	case tar.TypeDir:
		return a.dir(pfd, name, base, hdr)
	case tar.TypeSymlink:
		return a.symlink(pfd, name, base, hdr)
	case tar.TypeLink:
		return a.hardlink(pfd, name, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return a.node(pfd, name, base, hdr)
	}
	return errdefs.Invalid("layer entry %q: unsupported entry type %q", name, hdr.Typeflag)
}

// markSeen records name and its parents for WhiteoutDelete's opaque handling.
func (a *applier) markSeen(name string) {
	if a.seen == nil {
		return
	}
	for p := name; p != ""; p, _ = split(p) {
		if _, ok := a.seen[p]; ok {
			return
		}
		a.seen[p] = struct{}{}
	}
}

// clear removes whatever is at base in pfd so that the entry name can take
// its place (a non-directory replaces anything, a directory a non-directory).
func (a *applier) clear(pfd int, name, base string) error {
	if err := removeAllAt(pfd, base); err != nil {
		return entryErr(name, "replacing the existing file", err)
	}
	a.d.forget(name)
	return nil
}

// dirFinish is what a directory still needs once its content is written.
type dirFinish struct {
	times [2]unix.Timespec
	mode  uint32
	chmod bool // the mode was held back (an unprivileged apply)
}

// finish waits for the files' content and then finishes the directories.
func (a *applier) finish() error {
	if err := a.wait(); err != nil {
		return err
	}
	a.d.drop()
	for p, f := range a.pending {
		fd, err := openBeneath(a.d.root, p)
		if err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP {
			continue // a later entry removed or replaced it
		}
		if err != nil {
			return entryErr(p, "finishing directory", err)
		}
		if f.chmod {
			// chmod follows the descriptor's magic link to the directory
			// itself; fchmod refuses O_PATH descriptors.
			err = unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), f.mode)
		}
		if err == nil {
			err = setTimes(fd, "", f.times)
		}
		unix.Close(fd)
		if err != nil {
			return entryErr(p, "finishing directory", err)
		}
	}
	return nil
}

// entryErr wraps a failure of the system on entry name.
func entryErr(name, op string, err error) error {
	return fmt.Errorf("layer entry %q: %s: %w", name, op, err)
}

// resolveErr explains why the parent of entry name could not be opened
// beneath the target: the reasons that come from the tar's content are
// errdefs.ErrInvalid.
func resolveErr(name, parent string, err error) error {
	return resolveDirErr(name, "parent", parent, err)
}

// resolveDirErr is resolveErr for a directory the entry names in another
// role (what), such as the directory of a hardlink's target.
func resolveDirErr(name, what, dir string, err error) error {
	switch err {
	case unix.ELOOP:
		return errdefs.Invalid("layer entry %q: %s %q is or goes through a symlink", name, what, dir)
	case unix.ENOTDIR:
		return errdefs.Invalid("layer entry %q: %s %q is not a directory", name, what, dir)
	case unix.EXDEV:
		return errdefs.Invalid("layer entry %q: %s %q escapes the target directory", name, what, dir)
	case unix.ENOSYS:
		return errdefs.Unavailable("layer entry %q: opening %s: openat2 needs Linux 5.6 or later: %w", name, what, err)
	}
	return entryErr(name, "opening "+what, err)
}

// readErr classifies a failure to read the layer: damage to the stream is
// errdefs.ErrInvalid, a failure of the source keeps its own class.
func readErr(name string, err error) error {
	what := "reading layer tar"
	if name != "" {
		what = fmt.Sprintf("reading layer tar: entry %q", name)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) ||
		errors.Is(err, tar.ErrFieldTooLong) || errors.Is(err, tar.ErrInsecurePath) {
		return errdefs.Invalid("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
