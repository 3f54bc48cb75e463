package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// copyBufSize is the unit of file content moved per read and write: large
// enough that big files cost few syscalls.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// treeWriter writes files of a tree as tar entries. It works on directory
// descriptors and never follows a symlink, so a tree that changes while it
// is read (a running container's upper directory) cannot steer it elsewhere.
type treeWriter struct {
	bw  *bufio.Writer
	tw  *tar.Writer
	buf []byte
	// links maps an inode with several links to the first path written for
	// it; later paths become hardlinks to that one.
	links map[fileID]string
	// whiteouts converts overlay whiteouts and opaque marks to the layer
	// format's names (WriteDiff).
	whiteouts bool
}

type fileID struct{ dev, ino uint64 }

func newTreeWriter(w io.Writer, whiteouts bool) *treeWriter {
	bw := bufio.NewWriterSize(w, 256<<10)
	return &treeWriter{
		bw:        bw,
		tw:        tar.NewWriter(bw),
		buf:       *copyBufs.Get().(*[]byte),
		links:     make(map[fileID]string),
		whiteouts: whiteouts,
	}
}

// close ends the tar and flushes it to the underlying writer.
func (t *treeWriter) close() error {
	defer copyBufs.Put(&t.buf)
	if err := t.tw.Close(); err != nil {
		return err
	}
	return t.bw.Flush()
}

func writeTree(ctx context.Context, w io.Writer, dir string, whiteouts bool) error {
	f, err := openDir(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	t := newTreeWriter(w, whiteouts)
	if err := t.walk(ctx, f, ""); err != nil {
		copyBufs.Put(&t.buf)
		return fmt.Errorf("writing tar of %s: %w", dir, err)
	}
	if err := t.close(); err != nil {
		return fmt.Errorf("writing tar of %s: %w", dir, err)
	}
	return nil
}

func openDir(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// openDirAt opens the directory name in dir without following a symlink.
func openDirAt(dir *os.File, name string) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// readNames returns the names in dir, sorted bytewise.
func readNames(dir *os.File) ([]string, error) {
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// walk writes the entries below dir (whose path in the tar is rel) in
// sorted order, each directory before its content.
func (t *treeWriter) walk(ctx context.Context, dir *os.File, rel string) error {
	names, err := readNames(dir)
	if err != nil {
		return fmt.Errorf("reading directory %q: %w", rel, err)
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := t.walkEntry(ctx, dir, name, join(rel, name)); err != nil {
			return err
		}
	}
	return nil
}

func (t *treeWriter) walkEntry(ctx context.Context, dir *os.File, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT {
			return nil // removed since the directory was read
		}
		return fmt.Errorf("stat %q: %w", rel, err)
	}
	if err := t.entry(int(dir.Fd()), name, rel, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	sub, err := openDirAt(dir, name)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", rel, err)
	}
	defer sub.Close()
	return t.walk(ctx, sub, rel)
}

// entry writes the file name in the directory dfd, whose stat is st, as
// the tar entry rel (and, for WriteDiff, converts whiteouts).
func (t *treeWriter) entry(dfd int, name, rel string, st *unix.Stat_t) error {
	if t.whiteouts && isWhiteout(st) {
		parent, base := split(rel)
		return t.writeHeader(markerHeader(join(parent, whiteoutPrefix+base), st))
	}
	hdr, opaque, err := t.header(dfd, name, rel, st)
	if err != nil || hdr == nil {
		return err
	}
	if err := t.writeHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
		if err := t.content(dfd, name, rel, hdr.Size); err != nil {
			return err
		}
	}
	if t.whiteouts && opaque {
		return t.writeHeader(markerHeader(rel+"/"+opaqueMarker, st))
	}
	return nil
}

func (t *treeWriter) writeHeader(hdr *tar.Header) error {
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing tar header %q: %w", hdr.Name, err)
	}
	return nil
}

// isWhiteout reports whether st is overlayfs's whiteout, a 0/0 char device.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// markerHeader is the entry for a whiteout or an opaque marker: an empty
// regular file of mode 0 with the owner and mtime of what it stands for.
func markerHeader(name string, st *unix.Stat_t) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Uid:      int(st.Uid),
		Gid:      int(st.Gid),
		ModTime:  time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
		Format:   tar.FormatPAX,
	}
}

// content copies size bytes of the regular file name in dfd into the tar.
func (t *treeWriter) content(dfd int, name, rel string, size int64) error {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %q: %w", rel, err)
	}
	defer unix.Close(fd)
	for size > 0 {
		chunk := t.buf
		if size < int64(len(chunk)) {
			chunk = chunk[:size]
		}
		n, err := unix.Read(fd, chunk)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %q: %w", rel, err)
		}
		if n == 0 {
			return fmt.Errorf("reading %q: file shrank while being written to the tar", rel)
		}
		if _, err := t.tw.Write(chunk[:n]); err != nil {
			return fmt.Errorf("writing %q to the tar: %w", rel, err)
		}
		size -= int64(n)
	}
	return nil
}
