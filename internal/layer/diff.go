package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Diff returns the layer's uncompressed tar, byte for byte the stream that
// Register read (so it hashes to the layer's diffID), rebuilt from the
// layer's directory and its tar-split metadata.
//
// The reader verifies what it returns: a file of the directory that no
// longer matches (a damaged layer) fails it with an errdefs.ErrDataLoss
// error, at the latest at the end of the stream, where the whole stream is
// checked against the diffID. A layer that does not exist, or that has no
// metadata (Info.TarSplit is false), is an errdefs.ErrNotFound error.
//
// The caller keeps the layer from being removed until it closes the reader
// (the engine's gc.lock does).
func (s *Store) Diff(ctx context.Context, chainID digest.Digest) (io.ReadCloser, error) {
	info, err := s.Get(ctx, chainID)
	if err != nil {
		return nil, err
	}
	if !info.TarSplit {
		return nil, errdefs.NotFound("layer %s: no tar-split metadata, its tar cannot be rebuilt", chainID)
	}
	meta, err := os.Open(filepath.Join(s.layerPath(chainID), splitFile))
	if err != nil {
		return nil, errdefs.DataLoss("layer %s: opening tar-split metadata: %w", chainID, err)
	}
	zr, err := gzip.NewReader(meta)
	if err != nil {
		meta.Close()
		return nil, errdefs.DataLoss("layer %s: reading tar-split metadata: %w", chainID, err)
	}
	root, err := unix.Open(s.Dir(chainID), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		meta.Close()
		return nil, errdefs.DataLoss("layer %s: opening its directory: %w", chainID, err)
	}
	pr, pw := io.Pipe()
	d := &diffReader{ctx: ctx, info: info, pr: pr, h: sha256.New(), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		err := rebuild(beneathGetter{root: root}, storage.NewJSONUnpacker(zr), pw)
		unix.Close(root)
		meta.Close()
		if err != nil {
			err = errdefs.DataLoss("layer %s: rebuilding its tar: %w", chainID, err)
		}
		pw.CloseWithError(err)
	}()
	return d, nil
}

// diffReader hands out a rebuilt tar and checks it against the diffID.
type diffReader struct {
	ctx  context.Context
	info Info
	pr   *io.PipeReader
	h    hash.Hash
	n    int64
	done chan struct{} // closed when the rebuilding goroutine has ended
}

func (d *diffReader) Read(p []byte) (int, error) {
	if err := d.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := d.pr.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	if err == io.EOF {
		err = d.check()
	}
	return n, err
}

// check runs at the end of the stream: io.EOF if it was the layer's tar.
func (d *diffReader) check() error {
	got := digest.NewDigest(digest.SHA256, d.h)
	if got != d.info.DiffID || d.n != d.info.TarSize {
		return errdefs.DataLoss("layer %s: rebuilt tar (%d bytes) hashes to %s, not to its diffID %s (%d bytes)",
			d.info.ChainID, d.n, got, d.info.DiffID, d.info.TarSize)
	}
	return io.EOF
}

// Close stops the rebuild and waits until it has closed its files.
func (d *diffReader) Close() error {
	d.pr.Close()
	<-d.done
	return nil
}

// rebuild writes the tar that the metadata up describes, reading file
// contents through g: tar-split's assembler, except that a file entry
// without a CRC-64 (Register records none, see recorder) is not checked
// on its own, and that exactly the recorded size is read. The stream as a
// whole is checked against the diffID by diffReader, which catches any
// changed content; a CRC recorded by older versions is still checked, for a
// more precise error.
func rebuild(g beneathGetter, up storage.Unpacker, w io.Writer) error {
	buf := make([]byte, 256<<10)
	for {
		e, err := up.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch e.Type {
		case storage.SegmentType:
			if _, err := w.Write(e.Payload); err != nil {
				return err
			}
		case storage.FileType:
			if e.Size == 0 {
				continue
			}
			if err := copyEntry(g, e, w, buf); err != nil {
				return err
			}
		}
	}
}

// copyEntry writes the content of one file entry.
func copyEntry(g beneathGetter, e *storage.Entry, w io.Writer, buf []byte) error {
	f, err := g.Get(e.GetName())
	if err != nil {
		return err
	}
	defer f.Close()
	dst := w
	var h hash.Hash64
	if len(e.Payload) > 0 {
		h = crc64.New(storage.CRCTable)
		dst = io.MultiWriter(w, h)
	}
	n, err := io.CopyBuffer(dst, io.LimitReader(f, e.Size), buf)
	if err != nil {
		return err
	}
	if n != e.Size {
		return fmt.Errorf("file %q: %d bytes, the tar has %d", e.GetName(), n, e.Size)
	}
	if h != nil && !bytes.Equal(h.Sum(nil), e.Payload) {
		return fmt.Errorf("file %q: content does not match its checksum", e.GetName())
	}
	return nil
}

// beneathGetter opens the files a rebuild reads, by their tar entry names,
// beneath the layer's directory: never above it and never through a
// symlink (the kernel enforces both, atomically with the lookup), so that
// neither the metadata nor a symlink in the layer can make a rebuild read a
// file of the host. Only regular files are read: a device node is not even
// opened, since opening some devices acts on the hardware.
type beneathGetter struct{ root int }

func (g beneathGetter) Get(name string) (io.ReadCloser, error) {
	rel := cleanName(name)
	if rel == "" {
		return nil, fmt.Errorf("tar entry %q: not a path inside the layer", name)
	}
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2(g.root, rel, &how)
	if err != nil {
		return nil, fmt.Errorf("opening %q in the layer: %w", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("opening %q in the layer: %w", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("opening %q in the layer: not a regular file (mode %#o)", rel, st.Mode)
	}
	// Reopening the O_PATH descriptor through its magic link reads the
	// very inode that was checked.
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %q in the layer: %w", rel, err)
	}
	return f, nil
}

// openat2 retries what a concurrent rename or a signal interrupted.
func openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	for try := 0; ; try++ {
		fd, err := unix.Openat2(dirfd, path, how)
		if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && try < 100 {
			continue
		}
		return fd, err
	}
}
