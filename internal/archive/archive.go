// Package archive converts between layer tarballs (OCI/Docker layer format,
// with ".wh." whiteouts) and directories, safely.
//
// Apply never writes outside its target directory, whatever the tar says:
// every path is resolved beneath the target without following symlinks
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so "../x", absolute names,
// entries below a symlink and hardlinks pointing out are rejected with an
// errdefs.ErrInvalid error naming the entry.
package archive

import (
	"context"
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

// String returns "none", "gzip" or "zstd".
func (c Compression) String() string { panic("unimplemented") }

// Decompress sniffs r and returns a reader of the decompressed stream.
// Decompression runs ahead in its own goroutine so that it overlaps with
// whatever consumes the stream (unpacking writes files meanwhile).
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) { panic("unimplemented") }

// Compress returns a writer that compresses into w.
func Compress(w io.Writer, c Compression) (io.WriteCloser, error) { panic("unimplemented") }

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
}

// Apply unpacks the uncompressed layer tar r into dir, which must exist.
// It restores modes, owners, mtimes, xattrs, hardlinks, symlinks and device
// nodes, and returns the number of bytes of regular-file content written.
func Apply(ctx context.Context, dir string, r io.Reader, opts ApplyOptions) (int64, error) {
	panic("unimplemented")
}

// WriteDiff writes the overlay upper directory dir as a layer tar to w:
// 0/0 character devices become ".wh.name", opaque directories get a
// ".wh..wh..opq" entry, trusted.overlay.* xattrs are dropped. Entries are
// written in sorted order so the output is reproducible.
func WriteDiff(ctx context.Context, w io.Writer, dir string) error { panic("unimplemented") }

// WriteChanges writes the differences from lower to upper (two full trees,
// as the vfs driver keeps them) as a layer tar with whiteouts.
func WriteChanges(ctx context.Context, w io.Writer, lower, upper string) error {
	panic("unimplemented")
}

// WriteTree writes the whole tree at dir as a tar (no whiteout conversion).
func WriteTree(ctx context.Context, w io.Writer, dir string) error { panic("unimplemented") }
