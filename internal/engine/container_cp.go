package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
)

// CopyOptions are the options of `cp`.
type CopyOptions struct {
	FollowLink bool // -L: follow a symlink at the source path
	CopyUIDGID bool // -a: keep owners when copying into a container (else its root owns the copies)
}

// ContainerCopyFrom copies src of a container to hostDst (`docker cp
// CONTAINER:SRC DST`) with docker's rules: into an existing directory
// under src's name, onto an existing file, or as a new name; "SRC/." is a
// directory's content. The container may be running or not.
func (e *Engine) ContainerCopyFrom(ctx context.Context, ref, src, hostDst string, opts CopyOptions) error {
	dst, err := filepath.Abs(hostDst)
	if err != nil {
		return err
	}
	return e.inRootfs(ctx, ref, true, func(rootfs *root) error {
		host, err := openRoot("/")
		if err != nil {
			return err
		}
		defer host.close()
		return copyBetween(ctx, rootfs, src, host, keepSlash(hostDst, dst), opts, false, containerNotFound(ref))
	})
}

// ContainerCopyTo copies hostSrc into a container at dst (`docker cp SRC
// CONTAINER:DST`), with ContainerCopyFrom's rules.
func (e *Engine) ContainerCopyTo(ctx context.Context, ref, hostSrc, dst string, opts CopyOptions) error {
	src, err := filepath.Abs(hostSrc)
	if err != nil {
		return err
	}
	return e.inRootfs(ctx, ref, false, func(rootfs *root) error {
		host, err := openRoot("/")
		if err != nil {
			return err
		}
		defer host.close()
		return copyBetween(ctx, host, keepSlash(hostSrc, src), rootfs, dst, opts, !opts.CopyUIDGID, hostNotFound)
	})
}

// ContainerArchive writes src of a container to w as a tar (`docker cp
// CONTAINER:SRC -`): its first entry is src's base name.
func (e *Engine) ContainerArchive(ctx context.Context, ref, src string, opts CopyOptions, w io.Writer) error {
	return e.inRootfs(ctx, ref, true, func(rootfs *root) error {
		s, err := lookupSource(rootfs, src, opts, containerNotFound(ref))
		if err != nil {
			return err
		}
		defer s.close()
		return writeSource(ctx, w, s, parseCopyPath(src), path.Base(parseCopyPath(src).clean))
	})
}

// ContainerExtract unpacks the tar r into the directory dst of a
// container (`docker cp - CONTAINER:DST`).
func (e *Engine) ContainerExtract(ctx context.Context, ref, dst string, r io.Reader, opts CopyOptions) error {
	return e.inRootfs(ctx, ref, false, func(rootfs *root) error {
		d, err := rootfs.lookup(dst, true)
		if isNotExist(err) {
			return containerNotFound(ref)(dst)
		}
		if err != nil {
			return err
		}
		defer d.close()
		if !d.isDir() {
			return errdefs.Invalid("extraction point is not a directory: %s", dst)
		}
		return extractInto(ctx, d, d.name, r, !opts.CopyUIDGID)
	})
}

// inRootfs runs fn with the container's rootfs opened as a copy root,
// holding the container's lock.
func (e *Engine) inRootfs(ctx context.Context, ref string, readOnly bool, fn func(*root) error) error {
	c, unlock, err := e.lockedContainer(ctx, ref)
	if err != nil {
		return err
	}
	defer unlock()
	if !readOnly && c.HostConfig.ReadonlyRootfs {
		return errdefs.Invalid("container rootfs is marked read-only")
	}
	defer e.shared()()
	return e.withRootfs(ctx, c, readOnly, func(dir string) error {
		r, err := openRoot(dir)
		if err != nil {
			return err
		}
		defer r.close()
		return fn(r)
	})
}

// keepSlash carries a trailing "/" or "/." of the path as typed over to
// its absolute form, where the rules read it.
func keepSlash(typed, abs string) string {
	switch {
	case typed == "." || strings.HasSuffix(typed, "/."):
		return strings.TrimSuffix(abs, "/.") + "/."
	case strings.HasSuffix(typed, "/"):
		return strings.TrimSuffix(abs, "/") + "/"
	}
	return abs
}

func containerNotFound(ref string) func(string) error {
	return func(p string) error {
		return errdefs.NotFound("Could not find the file %s in container %s", p, ref)
	}
}

func hostNotFound(p string) error {
	return errdefs.NotFound("lstat %s: no such file or directory", p)
}

// lookupSource finds the source of a copy; a path ending in "/" or "/."
// must be a directory, and a symlink there is followed.
func lookupSource(r *root, src string, opts CopyOptions, notFound func(string) error) (*entry, error) {
	sp := parseCopyPath(src)
	s, err := r.lookup(sp.clean, opts.FollowLink || sp.dirOnly)
	if isNotExist(err) {
		return nil, notFound(sp.clean)
	}
	if err != nil {
		return nil, err
	}
	if sp.dirOnly && !s.isDir() {
		s.close()
		return nil, errdefs.Invalid("not a directory: %s", src)
	}
	return s, nil
}

// writeSource writes the source s as a tar: itself named as, or only its
// content for "DIR/.".
func writeSource(ctx context.Context, w io.Writer, s *entry, sp copyPath, as string) error {
	if sp.contentsOnly || s.name == "." {
		d, err := openDirAt(s)
		if err != nil {
			return err
		}
		defer d.close()
		return archive.WriteContents(ctx, w, d.dir, "")
	}
	return archive.WriteEntry(ctx, w, s.dir, s.name, as)
}

// copyBetween copies src of one root to dst of another by docker's rules.
func copyBetween(ctx context.Context, from *root, src string, to *root, dst string, opts CopyOptions, chown bool, notFound func(string) error) error {
	s, err := lookupSource(from, src, opts, notFound)
	if err != nil {
		return err
	}
	defer s.close()
	sp, dp := parseCopyPath(src), parseCopyPath(dst)
	d, err := to.lookup(dp.clean, true)
	switch {
	case isNotExist(err):
		return copyToNew(ctx, s, sp, to, dp, chown)
	case err != nil:
		return err
	}
	defer d.close()
	if d.isDir() {
		// Into the directory, under the source's own name (or, for
		// "SRC/.", the source's content).
		into, err := openDirAt(d)
		if err != nil {
			return err
		}
		defer into.close()
		return pipeCopy(ctx, s, sp, path.Base(sp.clean), into, ".", chown)
	}
	switch {
	case dp.dirOnly:
		return errdefs.Invalid("destination %s is not a directory", dst)
	case s.isDir():
		return errdefs.Invalid("cannot overwrite non-directory %s with directory %s", dp.clean, sp.clean)
	}
	return pipeCopy(ctx, s, sp, d.name, d, ".", chown)
}

// copyToNew copies s to the path dp that does not exist yet; its parent
// must be a directory.
func copyToNew(ctx context.Context, s *entry, sp copyPath, to *root, dp copyPath, chown bool) error {
	if dp.dirOnly {
		return errdefs.NotFound("destination directory %s does not exist", dp.clean)
	}
	parent, err := to.lookup(path.Dir(dp.clean), true)
	if isNotExist(err) {
		return errdefs.NotFound("destination directory %s does not exist", path.Dir(dp.clean))
	}
	if err != nil {
		return err
	}
	defer parent.close()
	if !parent.isDir() {
		return errdefs.Invalid("destination %s is not a directory", path.Dir(dp.clean))
	}
	into, err := openDirAt(parent)
	if err != nil {
		return err
	}
	defer into.close()
	// The source itself (or a directory's content) under the new name.
	sp.contentsOnly = false
	return pipeCopy(ctx, s, sp, path.Base(dp.clean), into, ".", chown)
}

// pipeCopy writes s as a tar named as and unpacks it into the directory
// name of dir.
func pipeCopy(ctx context.Context, s *entry, sp copyPath, as string, dir *entry, name string, chown bool) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeSource(ctx, pw, s, sp, as)) }()
	defer pr.Close()
	return extractInto(ctx, dir, name, pr, chown)
}

// extractInto unpacks the tar r into the directory name of dir; with chown
// every file becomes root's.
func extractInto(ctx context.Context, dir *entry, name string, r io.Reader, chown bool) error {
	target, err := openDirAt(&entry{dir: dir.dir, name: name})
	if err != nil {
		return err
	}
	defer target.close()
	fr, fw := io.Pipe()
	go func() { fw.CloseWithError(filterCopyTar(r, fw, chown)) }()
	defer fr.Close()
	// The descriptor, not a path: nothing is looked up again.
	_, err = archive.Apply(ctx, fdPath(target.dir), fr, archive.ApplyOptions{Whiteouts: archive.WhiteoutDelete})
	if err != nil {
		return fmt.Errorf("copying: %w", err)
	}
	return nil
}

// filterCopyTar copies a tar, dropping whiteout names (a copy is files,
// not a layer: Apply must not delete anything for them) and, with chown,
// giving every entry to root.
func filterCopyTar(r io.Reader, w io.Writer, chown bool) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return errdefs.Invalid("reading tar: %w", err)
		}
		if strings.HasPrefix(path.Base(hdr.Name), ".wh.") {
			continue
		}
		if chown {
			hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
