package build

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
)

// owner is what COPY gives the files it writes: --chown's ids (root by
// default) and --chmod's mode when set.
type owner struct {
	uid, gid int
	chown    bool // --chown given: it applies to unpacked archives too
	mode     *uint32
}

// layerWriter writes a COPY's layer tar straight from its sources: the
// files are written once, by the layer store, instead of into a writable
// layer first and then again from its diff. The rootfs under the step is
// only read, to resolve destinations (an image's symlinks are followed
// inside it) and to describe the directories the copy passes through.
type layerWriter struct {
	tw      *tar.Writer
	rootfs  string
	own     owner
	now     time.Time
	emitted map[string]bool
	buf     []byte // one copy buffer for every file
}

// writeTar writes the plan as a layer tar over rootfs.
func (p *copyPlan) writeTar(ctx context.Context, w io.Writer, rootfs string, own owner, now time.Time) error {
	lw := &layerWriter{tw: tar.NewWriter(w), rootfs: rootfs, own: own, now: now, emitted: map[string]bool{},
		buf: make([]byte, 64<<10)}
	for _, it := range p.items {
		if err := p.tarItem(ctx, lw, it); err != nil {
			return err
		}
	}
	return lw.tw.Close()
}

func (p *copyPlan) tarItem(ctx context.Context, lw *layerWriter, it copyItem) error {
	dst, err := lw.resolve(p.dst)
	if err != nil {
		return err
	}
	if it.isDir || it.extract {
		if err := lw.parents(dst, true); err != nil {
			return err
		}
		if it.extract {
			return lw.extract(ctx, dst, it.src)
		}
		return p.walk(ctx, it, func(rel, host string, fi fs.FileInfo) error {
			if rel == "" {
				return nil // a directory's contents are copied, not the directory
			}
			return lw.entry(path.Join(dst, rel), host, fi)
		})
	}
	if p.dstDir || lw.isDir(dst) {
		dst = path.Join(dst, it.base)
	}
	if err := lw.parents(path.Dir(dst), true); err != nil {
		return err
	}
	if it.data != nil {
		return lw.data(dst, *it.data)
	}
	fi, err := os.Stat(it.src)
	if err != nil {
		return err
	}
	return lw.entry(dst, it.src, fi)
}

// resolve follows the image's symlinks in rel, inside the rootfs.
func (lw *layerWriter) resolve(rel string) (string, error) {
	host, err := scopedPath(lw.rootfs, rel, false)
	if err != nil {
		return "", err
	}
	out, err := filepath.Rel(lw.rootfs, host)
	if err != nil || out == "." {
		return ".", err
	}
	return filepath.ToSlash(out), nil
}

func (lw *layerWriter) isDir(rel string) bool {
	fi, err := os.Stat(filepath.Join(lw.rootfs, rel))
	return err == nil && fi.IsDir()
}

// parents writes the directories down to rel (rel too with self): an
// existing one as it is (what overlay's copy-up would record), a missing
// one as 0755 owned by the copy's owner.
func (lw *layerWriter) parents(rel string, self bool) error {
	if rel == "." || rel == "" || rel == "/" {
		return nil
	}
	if err := lw.parents(path.Dir(rel), true); err != nil || !self || lw.emitted[rel] {
		return err
	}
	lw.emitted[rel] = true
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755, Uid: lw.own.uid, Gid: lw.own.gid, ModTime: lw.now}
	fi, err := os.Lstat(filepath.Join(lw.rootfs, rel))
	switch {
	case err == nil && !fi.IsDir():
		return errdefs.Invalid("cannot copy into /%s: not a directory", rel)
	case err == nil:
		st := fi.Sys().(*syscall.Stat_t)
		hdr.Mode, hdr.Uid, hdr.Gid, hdr.ModTime = int64(unixMode(fi.Mode())), int(st.Uid), int(st.Gid), fi.ModTime()
	case !os.IsNotExist(err):
		return err
	}
	return lw.write(hdr, nil)
}

// entry writes one source entry at rel, owned by the copy's owner.
func (lw *layerWriter) entry(rel, host string, fi fs.FileInfo) error {
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(host); err != nil {
			return err
		}
	} else if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil // devices, sockets and fifos are not copied
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = rel, lw.own.uid, lw.own.gid, "", ""
	hdr.Mode = int64(unixMode(fi.Mode()))
	hdr.AccessTime, hdr.ChangeTime, hdr.Format = time.Time{}, time.Time{}, tar.FormatPAX
	if lw.own.mode != nil && hdr.Typeflag != tar.TypeSymlink {
		hdr.Mode = int64(*lw.own.mode)
	}
	if fi.IsDir() {
		if lw.emitted[rel] {
			return nil
		}
		lw.emitted[rel] = true
		hdr.Name += "/"
		return lw.write(hdr, nil)
	}
	if !fi.Mode().IsRegular() {
		return lw.write(hdr, nil)
	}
	// A bare descriptor: an *os.File costs three more system calls a file
	// (poller registration and flag checks) for a file read once.
	fd, err := unix.Open(host, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: host, Err: err}
	}
	defer unix.Close(fd)
	return lw.write(hdr, fdReader(fd))
}

// fdReader reads a file descriptor.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (lw *layerWriter) data(rel, data string) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: int64(len(data)),
		Uid: lw.own.uid, Gid: lw.own.gid, ModTime: lw.now, Format: tar.FormatPAX}
	if lw.own.mode != nil {
		hdr.Mode = int64(*lw.own.mode)
	}
	return lw.write(hdr, strings.NewReader(data))
}

func (lw *layerWriter) write(hdr *tar.Header, body io.Reader) error {
	if err := lw.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", hdr.Name, err)
	}
	if body == nil {
		return nil
	}
	// Hiding a body's WriteTo makes io.CopyBuffer use lw.buf instead of
	// allocating (and zeroing) 32 KiB per file.
	n, err := io.CopyBuffer(lw.tw, struct{ io.Reader }{body}, lw.buf)
	if err == nil && n != hdr.Size {
		err = fmt.Errorf("%s changed while it was copied", hdr.Name)
	}
	return err
}

// extract rewrites the entries of a local (possibly compressed) tar under
// dir, as ADD unpacks archives; whiteouts in it are not honoured.
func (lw *layerWriter) extract(ctx context.Context, dir, host string) error {
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
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", filepath.Base(host), err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if name == "" || strings.HasPrefix(path.Base(name), ".wh.") {
			continue
		}
		hdr.Name = path.Join(dir, name)
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = path.Join(dir, strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/"))
		}
		if err := lw.parents(path.Dir(hdr.Name), true); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeDir {
			if lw.emitted[hdr.Name] {
				continue
			}
			lw.emitted[hdr.Name] = true
			hdr.Name += "/"
		}
		if lw.own.chown {
			hdr.Uid, hdr.Gid = lw.own.uid, lw.own.gid
		}
		if err := lw.write(hdr, tr); err != nil {
			return err
		}
	}
}

func unixMode(m fs.FileMode) uint32 {
	out := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		out |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		out |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		out |= syscall.S_ISVTX
	}
	return out
}
