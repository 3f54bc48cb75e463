package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
)

// owner is what COPY gives the files it writes: --chown's ids (root by
// default) and --chmod's mode when set.
type owner struct {
	uid, gid int
	mode     *uint32
}

// rootWriter writes into a rootfs through descriptors resolved with
// RESOLVE_IN_ROOT, so that no symlink of the image leads outside it.
type rootWriter struct {
	root  int
	dirs  map[string]int // open directory descriptors by relative path
	own   owner
	times []dirTime // set last: writing children changes a directory's mtime
}

type dirTime struct {
	rel string
	t   time.Time
}

// apply copies the plan's items into rootfs.
func (p *copyPlan) apply(ctx context.Context, rootfs string, own owner) error {
	fd, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	w := &rootWriter{root: fd, dirs: map[string]int{"": fd}, own: own}
	defer w.close()
	for _, it := range p.items {
		if err := p.applyItem(ctx, w, it); err != nil {
			return err
		}
	}
	for i := len(w.times) - 1; i >= 0; i-- {
		if dfd, err := w.dir(w.times[i].rel, false); err == nil {
			ts := []unix.Timespec{unix.NsecToTimespec(w.times[i].t.UnixNano()), unix.NsecToTimespec(w.times[i].t.UnixNano())}
			_ = unix.UtimesNanoAt(dfd, ".", ts, 0)
		}
	}
	return nil
}

func (p *copyPlan) applyItem(ctx context.Context, w *rootWriter, it copyItem) error {
	dst := p.dst
	if it.isDir || it.extract {
		if _, err := w.dir(dst, true); err != nil {
			return err
		}
		if it.extract {
			return w.extract(ctx, dst, it.src)
		}
	} else if p.dstDir || w.isDir(dst) {
		dst = path.Join(dst, it.base)
	}
	if it.data != nil {
		return w.file(dst, "", 0o644, time.Now(), it.data)
	}
	return p.walk(ctx, it, func(rel, host string, fi fs.FileInfo) error {
		return w.entry(path.Join(dst, rel), host, fi)
	})
}

func (w *rootWriter) close() {
	for _, fd := range w.dirs {
		unix.Close(fd)
	}
}

// dir opens the directory rel of the rootfs, creating it and its missing
// parents (0755, owned by the copy's owner) when create is set.
func (w *rootWriter) dir(rel string, create bool) (int, error) {
	if fd, ok := w.dirs[rel]; ok {
		return fd, nil
	}
	how := unix.OpenHow{Flags: unix.O_DIRECTORY | unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(w.root, rel, &how)
	if errors.Is(err, unix.ENOENT) && create {
		if err := w.mkdirIn(rel); err != nil {
			return -1, err
		}
		fd, err = unix.Openat2(w.root, rel, &how)
	}
	if err != nil {
		return -1, fmt.Errorf("opening /%s: %w", rel, err)
	}
	w.dirs[rel] = fd
	return fd, nil
}

// mkdirIn creates the missing directory rel (and its parents).
func (w *rootWriter) mkdirIn(rel string) error {
	parent, base := path.Split(rel)
	pfd, err := w.dir(strings.TrimSuffix(parent, "/"), true)
	if err != nil {
		return err
	}
	if err := unix.Mkdirat(pfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("creating /%s: %w", rel, err)
	}
	return unix.Fchownat(pfd, base, w.own.uid, w.own.gid, unix.AT_SYMLINK_NOFOLLOW)
}

func (w *rootWriter) isDir(rel string) bool {
	_, err := w.dir(rel, false)
	return err == nil
}

// parent opens the parent of rel, creating it, and returns the base name.
func (w *rootWriter) parent(rel string) (int, string, error) {
	parent, base := path.Split(rel)
	fd, err := w.dir(strings.TrimSuffix(parent, "/"), true)
	return fd, base, err
}

// entry copies one source entry to rel.
func (w *rootWriter) entry(rel, host string, fi fs.FileInfo) error {
	mode := unixMode(fi.Mode())
	switch {
	case fi.IsDir():
		return w.mkdir(rel, mode, fi.ModTime())
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(host)
		if err != nil {
			return err
		}
		return w.symlink(rel, target, fi.ModTime())
	case fi.Mode().IsRegular():
		return w.file(rel, host, mode, fi.ModTime(), nil)
	}
	return nil // devices, sockets and fifos are not copied
}

func unixMode(m fs.FileMode) uint32 {
	out := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		out |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		out |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		out |= unix.S_ISVTX
	}
	return out
}

func (w *rootWriter) mkdir(rel string, mode uint32, mtime time.Time) error {
	if w.own.mode != nil {
		mode = *w.own.mode
	}
	if rel != "" {
		pfd, base, err := w.parent(rel)
		if err != nil {
			return err
		}
		if err := unix.Mkdirat(pfd, base, mode); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("creating /%s: %w", rel, err)
		}
	}
	fd, err := w.dir(rel, false)
	if err != nil {
		return err
	}
	if err := unix.Fchown(fd, w.own.uid, w.own.gid); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	w.times = append(w.times, dirTime{rel: rel, t: mtime})
	return nil
}

func (w *rootWriter) symlink(rel, target string, mtime time.Time) error {
	pfd, base, err := w.parent(rel)
	if err != nil {
		return err
	}
	if err := w.clear(pfd, base); err != nil {
		return err
	}
	if err := unix.Symlinkat(target, pfd, base); err != nil {
		return fmt.Errorf("creating /%s: %w", rel, err)
	}
	if err := unix.Fchownat(pfd, base, w.own.uid, w.own.gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// clear removes a non-directory at base, as a copy replaces what it meets.
func (w *rootWriter) clear(pfd int, base string) error {
	err := unix.Unlinkat(pfd, base, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if errors.Is(err, unix.EISDIR) {
		return fmt.Errorf("cannot replace directory %s with a file", base)
	}
	return err
}

// file writes a regular file from host (or data) to rel.
func (w *rootWriter) file(rel, host string, mode uint32, mtime time.Time, data *string) error {
	if w.own.mode != nil {
		mode = *w.own.mode
	}
	pfd, base, err := w.parent(rel)
	if err != nil {
		return err
	}
	if err := w.clear(pfd, base); err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("creating /%s: %w", rel, err)
	}
	out := os.NewFile(uintptr(fd), rel)
	defer out.Close()
	if data != nil {
		_, err = out.WriteString(*data)
	} else {
		err = copyContent(out, host)
	}
	if err != nil {
		return fmt.Errorf("writing /%s: %w", rel, err)
	}
	if err := out.Chown(w.own.uid, w.own.gid); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func copyContent(out *os.File, host string) error {
	in, err := os.Open(host)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = out.ReadFrom(in)
	return err
}

// extract unpacks the (possibly compressed) tar at host into rel, as ADD
// does with a local archive.
func (w *rootWriter) extract(ctx context.Context, rel, host string) error {
	fd, err := w.dir(rel, true)
	if err != nil {
		return err
	}
	f, err := os.Open(host)
	if err != nil {
		return err
	}
	defer f.Close()
	r, _, err := archive.Decompress(f)
	if err != nil {
		return err
	}
	defer r.Close()
	dir := "/proc/self/fd/" + strconv.Itoa(fd)
	_, err = archive.Apply(ctx, dir, r, archive.ApplyOptions{Whiteouts: archive.WhiteoutDelete})
	return err
}
