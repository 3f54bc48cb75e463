package archive

import (
	"context"
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Change is one line of `docker diff`: a path of the container's
// filesystem (absolute) that was added (A), changed (C) or deleted (D).
type Change struct {
	Kind byte // 'A', 'C' or 'D'
	Path string
}

func (c Change) String() string { return string(c.Kind) + " " + c.Path }

// OverlayChanges lists what the overlay upper directory upper changes in
// the tree its lower directories (topmost first) make, the way docker's
// overlay driver reports it: in walk order (sorted, a directory before its
// content); an overlay whiteout is D, and so is an opaque directory that
// hides a lower one (its new content follows as A); a name no lower
// directory has is A, any other C, except a directory whose mode, owner
// and mtime are unchanged (copied up only for its content); the parent of
// an added or deleted path is C, listed before it, unless it is the root.
// Only metadata is read, never file content; nothing is followed through a
// symlink.
func OverlayChanges(ctx context.Context, upper string, lowers []string) ([]Change, error) {
	uf, err := openDir(upper)
	if err != nil {
		return nil, err
	}
	defer uf.Close()
	lfs := make([]*os.File, len(lowers))
	for i, l := range lowers {
		if lfs[i], err = openDir(l); err != nil {
			closeAll(lfs)
			return nil, err
		}
	}
	defer closeAll(lfs)
	cl := &changeLister{changedDirs: map[string]bool{}}
	if err := cl.walk(ctx, uf, lfs, "/"); err != nil {
		return nil, fmt.Errorf("listing changes of %s: %w", upper, err)
	}
	return cl.out, nil
}

type changeLister struct {
	out         []Change
	changedDirs map[string]bool
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// walk lists the changes below the upper directory dir at path p; lowers
// are the same directory in each lower layer (nil where it is none).
func (cl *changeLister) walk(ctx context.Context, dir *os.File, lowers []*os.File, p string) error {
	names, err := readNames(dir)
	if err != nil {
		return fmt.Errorf("reading directory %q: %w", p, err)
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := cl.entry(ctx, dir, lowers, name, path.Join(p, name)); err != nil {
			return err
		}
	}
	return nil
}

func (cl *changeLister) entry(ctx context.Context, dir *os.File, lowers []*os.File, name, p string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT {
			return nil // removed since the directory was read
		}
		return fmt.Errorf("stat %q: %w", p, err)
	}
	lower, found := lookupLower(lowers, name)
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	opaque := false
	if isDir {
		var err error
		if _, opaque, err = readXattrs(int(dir.Fd()), name); err != nil {
			return fmt.Errorf("reading xattrs of %q: %w", p, err)
		}
	}
	switch {
	case isWhiteout(&st) || (opaque && found):
		cl.add('D', p, isDir)
	case !found:
		cl.add('A', p, isDir)
	case !isDir || lower.Mode != st.Mode || lower.Uid != st.Uid || lower.Gid != st.Gid || lower.Mtim != st.Mtim:
		cl.changedDirs[p] = isDir
		cl.out = append(cl.out, Change{Kind: 'C', Path: p})
	}
	if !isDir {
		return nil
	}
	sub, err := openDirAt(dir, name)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", p, err)
	}
	defer sub.Close()
	var subLowers []*os.File
	if !opaque {
		subLowers = openLowerDirs(lowers, name)
		defer closeAll(subLowers)
	}
	return cl.walk(ctx, sub, subLowers, p)
}

// add records an addition or a deletion, after its parent as changed.
// A directory listed is not listed again for its content.
func (cl *changeLister) add(kind byte, p string, isDir bool) {
	cl.changedDirs[p] = isDir
	if parent := path.Dir(p); parent != "/" && !cl.changedDirs[parent] {
		cl.out = append(cl.out, Change{Kind: 'C', Path: parent})
		cl.changedDirs[parent] = true
	}
	cl.out = append(cl.out, Change{Kind: kind, Path: p})
}

// lookupLower finds name in the topmost lower directory that has it; a
// lower whiteout hides it from the layers below.
func lookupLower(lowers []*os.File, name string) (unix.Stat_t, bool) {
	var st unix.Stat_t
	for _, l := range lowers {
		if l == nil {
			continue
		}
		if unix.Fstatat(int(l.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return st, !isWhiteout(&st)
		}
	}
	return st, false
}

// openLowerDirs opens name in each lower directory where it is a directory
// (nil elsewhere), stopping below an opaque one.
func openLowerDirs(lowers []*os.File, name string) []*os.File {
	subs := make([]*os.File, len(lowers))
	for i, l := range lowers {
		if l == nil {
			continue
		}
		sub, err := openDirAt(l, name)
		if err != nil {
			var st unix.Stat_t
			if unix.Fstatat(int(l.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
				break // a file or whiteout here hides the layers below
			}
			continue
		}
		subs[i] = sub
		if _, opaque, _ := readXattrs(int(l.Fd()), name); opaque {
			break
		}
	}
	return subs
}
