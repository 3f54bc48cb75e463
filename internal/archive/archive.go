// Package archive converts between layer tarballs (OCI/Docker layer format,
// with ".wh." whiteouts) and directories, safely.
//
// Apply never writes outside its target directory, whatever the tar says:
// every path is resolved beneath the target without following symlinks
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so "../x", absolute names,
// entries below a symlink and hardlinks pointing out are rejected with an
// errdefs.ErrInvalid error naming the entry. Each entry is then created with
// an *at call relative to its parent's descriptor, never following a symlink
// at its own name. Removals (an entry replacing a file, a whiteout in
// WhiteoutDelete mode) work on descriptors too and do not follow symlinks.
//
// The invariants of the layer format as Apply keeps them:
//   - whiteouts (".wh.<name>", ".wh..wh..opq") never become files; aufs
//     bookkeeping (".wh..wh.*") is skipped; a whiteout of "." or ".." and a
//     directory named like a whiteout are errors;
//   - an entry replaces what is at its name, except that a directory over a
//     directory merges (the old content stays, the metadata is the entry's);
//   - owners, modes (setuid/setgid/sticky included), xattrs and times are
//     restored; directory times are set at the end, after their content;
//   - overlayfs's private xattrs (trusted.overlay.*) are neither read from a
//     tar nor written to one: the whiteouts are their portable form.
//
// The writers (WriteDiff, WriteChanges, WriteTree) produce reproducible PAX
// tars: entries in sorted order, names relative without "./", directories
// with a trailing "/", times with nanoseconds, no user or group names, and a
// second path to an inode already written as a hardlink to the first.
// WriteEntry and WriteContents write the same from a directory descriptor
// (cp, which resolved it inside a container's rootfs); OverlayChanges lists
// an overlay upper directory's changes as `docker diff` shows them, from
// metadata alone.
//
// The package keeps nothing on disk of its own.
package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
)

// Compression is the compression of a stream, detected from its magic bytes
// (never from a file name or a media type).
type Compression int

const (
	Uncompressed Compression = iota
	Gzip
	Zstd
)

// WhiteoutMode says how Apply represents deletions recorded in a layer.
type WhiteoutMode int

const (
	// WhiteoutOverlay writes overlayfs's form: a 0/0 character device for
	// ".wh.name" and the xattr trusted.overlay.opaque=y for ".wh..wh..opq".
	// The target directory holds only this layer's changes.
	WhiteoutOverlay WhiteoutMode = iota
	// WhiteoutDelete deletes what the whiteout names: the target directory
	// already holds the parent's full tree (the vfs driver's copy).
	WhiteoutDelete
)

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	Whiteouts WhiteoutMode
	Tap       Tap // nil: none
}

// Apply unpacks the uncompressed layer tar r into dir, which must exist.
// It restores modes, owners, mtimes, xattrs, hardlinks, symlinks and device
// nodes, and returns the number of bytes of regular-file content written.
//
// Apply reads r to its end, past the tar's end-of-archive marker, so that a
// digest computed while reading (a diffID) covers the whole stream. A
// truncated or corrupt tar is an errdefs.ErrInvalid error. On error, dir
// holds whatever was applied before it; the caller discards it.
func Apply(ctx context.Context, dir string, r io.Reader, opts ApplyOptions) (int64, error) {
	d, err := openDirs(dir)
	if err != nil {
		return 0, fmt.Errorf("applying layer: %w", err)
	}
	a := newApplier(d, opts)
	defer a.close()
	br := buffered(r)
	raw, rest := tapped(br, opts)
	blocks := &blockCounter{r: raw}
	tr := tar.NewReader(blocks)
	var contentEnd int64 // stream offset where the last entry's content ends
	for {
		if err := ctx.Err(); err != nil {
			return a.written, err
		}
		if err := a.wb.failed(); err != nil {
			return a.written, err
		}
		hdr, err := tr.Next()
		if err == tar.ErrInsecurePath {
			err = nil // with GODEBUG=tarinsecurepath=0; cleanName judges the name
		}
		// A clean EOF after the last entry ends the layer even without the
		// end-of-archive zero blocks, or even without the padding of the
		// last block: Go's tar writer and umoci omit them, and Docker and
		// containerd accept such layers (integrity comes from the diffID,
		// verified over the whole stream). A stream that stops anywhere
		// else was cut, even where archive/tar does not notice (inside a
		// PAX header).
		if err == io.EOF {
			if blocks.n%512 != 0 && blocks.n != contentEnd {
				return a.written, readErr("", io.ErrUnexpectedEOF)
			}
			break
		}
		if err != nil {
			return a.written, readErr("", err)
		}
		contentEnd = blocks.n + hdr.Size
		if opts.Tap != nil {
			opts.Tap.Header(hdr)
		}
		if err := a.entry(hdr, tr); err != nil {
			return a.written, err
		}
	}
	if err := a.finish(); err != nil {
		return a.written, err
	}
	if _, err := io.Copy(rest, br); err != nil {
		return a.written, readErr("", err)
	}
	return a.written, nil
}

// buffered puts a buffer in front of r unless it has one: the tar reader
// reads 512-byte headers, which should not each cost a read(2). Content
// reads of a full copy buffer bypass it.
func buffered(r io.Reader) io.Reader {
	switch r.(type) {
	case *bufio.Reader, *pipeReader, bufReadCloser:
		return r
	}
	return bufio.NewReaderSize(r, 64<<10)
}

// blockCounter counts the bytes the tar reader consumed.
type blockCounter struct {
	r io.Reader
	n int64
}

func (b *blockCounter) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// WriteDiff writes the overlay upper directory dir as a layer tar to w:
// 0/0 character devices become ".wh.name", opaque directories get a
// ".wh..wh..opq" entry, trusted.overlay.* xattrs are dropped. Entries are
// written in sorted order so the output is reproducible.
func WriteDiff(ctx context.Context, w io.Writer, dir string) error {
	return writeTree(ctx, w, dir, true)
}

// WriteChanges writes the differences from lower to upper (two full trees,
// as the vfs driver keeps them) as a layer tar with whiteouts.
func WriteChanges(ctx context.Context, w io.Writer, lower, upper string) error {
	return writeChanges(ctx, w, lower, upper)
}

// WriteTree writes the whole tree at dir as a tar (no whiteout conversion).
func WriteTree(ctx context.Context, w io.Writer, dir string) error {
	return writeTree(ctx, w, dir, false)
}
