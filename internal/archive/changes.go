package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// writeChanges walks lower and upper side by side, each directory's names
// in sorted order, and writes what upper adds or changes, and a whiteout for
// each name that only lower has (one for a whole removed directory).
func writeChanges(ctx context.Context, w io.Writer, lower, upper string) error {
	lf, err := openDir(lower)
	if err != nil {
		return err
	}
	defer lf.Close()
	uf, err := openDir(upper)
	if err != nil {
		return err
	}
	defer uf.Close()
	t := newTreeWriter(w, false)
	if err := t.changes(ctx, lf, uf, ""); err != nil {
		copyBufs.Put(&t.buf)
		return fmt.Errorf("writing changes from %s to %s: %w", lower, upper, err)
	}
	if err := t.close(); err != nil {
		return fmt.Errorf("writing changes from %s to %s: %w", lower, upper, err)
	}
	return nil
}

// changes writes the differences below the directory rel; lower is nil
// where upper's directory has no counterpart, and all of it is new.
func (t *treeWriter) changes(ctx context.Context, lower, upper *os.File, rel string) error {
	unames, err := readNames(upper)
	if err != nil {
		return fmt.Errorf("reading directory %q: %w", rel, err)
	}
	var lnames []string
	if lower != nil {
		if lnames, err = readNames(lower); err != nil {
			return fmt.Errorf("reading lower directory %q: %w", rel, err)
		}
	}
	i, j := 0, 0
	for i < len(lnames) || j < len(unames) {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case j == len(unames) || (i < len(lnames) && lnames[i] < unames[j]):
			err = t.writeHeader(removedHeader(join(rel, whiteoutPrefix+lnames[i])))
			i++
		case i == len(lnames) || unames[j] < lnames[i]:
			err = t.changed(ctx, nil, upper, unames[j], rel)
			j++
		default:
			err = t.changed(ctx, lower, upper, unames[j], rel)
			i++
			j++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// removedHeader is the whiteout of a removed path. Its owner and time are
// fixed so that the same change always gives the same bytes.
func removedHeader(name string) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
}

// changed writes name (in upper, and in lower unless lower is nil) if it is
// new or differs, then descends into it if it is a directory.
func (t *treeWriter) changed(ctx context.Context, lower, upper *os.File, name, rel string) error {
	p := join(rel, name)
	var ust, lst unix.Stat_t
	if err := unix.Fstatat(int(upper.Fd()), name, &ust, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %q: %w", p, err)
	}
	if lower != nil {
		if err := unix.Fstatat(int(lower.Fd()), name, &lst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat lower %q: %w", p, err)
		}
	}
	differs := lower == nil
	if !differs {
		var err error
		if differs, err = metaDiffers(int(lower.Fd()), int(upper.Fd()), name, &lst, &ust); err != nil {
			return fmt.Errorf("comparing %q: %w", p, err)
		}
	}
	if differs {
		if err := t.entry(int(upper.Fd()), name, p, &ust); err != nil {
			return err
		}
	}
	if ust.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	return t.changedDir(ctx, lower, upper, name, p, lst.Mode&unix.S_IFMT == unix.S_IFDIR)
}

func (t *treeWriter) changedDir(ctx context.Context, lower, upper *os.File, name, p string, lowerIsDir bool) error {
	usub, err := openDirAt(upper, name)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", p, err)
	}
	defer usub.Close()
	var lsub *os.File
	if lower != nil && lowerIsDir {
		if lsub, err = openDirAt(lower, name); err != nil {
			return fmt.Errorf("opening lower directory %q: %w", p, err)
		}
		defer lsub.Close()
	}
	return t.changes(ctx, lsub, usub, p)
}

// metaDiffers compares what a layer records of a file: type, mode, owner,
// device, size, mtime, symlink target and xattrs. Regular files with equal
// metadata are taken as equal without reading them.
func metaDiffers(lfd, ufd int, name string, l, u *unix.Stat_t) (bool, error) {
	if l.Mode != u.Mode || l.Uid != u.Uid || l.Gid != u.Gid || l.Rdev != u.Rdev ||
		l.Mtim != u.Mtim || (u.Mode&unix.S_IFMT != unix.S_IFDIR && l.Size != u.Size) {
		return true, nil
	}
	if u.Mode&unix.S_IFMT == unix.S_IFLNK {
		lt, err := readlinkAt(lfd, name)
		if err != nil {
			return false, err
		}
		ut, err := readlinkAt(ufd, name)
		if err != nil || lt != ut {
			return lt != ut, err
		}
	}
	lx, lopq, err := readXattrs(lfd, name)
	if err != nil {
		return false, err
	}
	ux, uopq, err := readXattrs(ufd, name)
	if err != nil {
		return false, err
	}
	return lopq != uopq || !maps.Equal(lx, ux), nil
}
