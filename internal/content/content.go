// Package content stores blobs (manifests, configs, layer tarballs, indexes)
// by their sha256 digest.
//
// On disk, under the store's root:
//
//	blobs/sha256/<hex>     committed blobs, read-only, never modified
//	ingest/<random>        blobs being written; each has <random>.lock,
//	                       flock-held by its writer while it lives
//
// A blob becomes visible only by rename after its bytes were hashed while
// streaming, checked against the expected digest and size, and fsynced; a
// mismatch leaves nothing behind. A writer killed mid-write leaves an ingest
// file whose lock no one holds; Open removes such leftovers.
package content

import (
	"context"
	"io"

	"github.com/opencontainers/go-digest"
)

// Info describes a committed blob.
type Info struct {
	Digest digest.Digest
	Size   int64
}

// Store is a directory of blobs. It is safe for concurrent use by goroutines
// and by processes.
type Store struct{}

// Open opens (creating if needed) the store at root and sweeps ingests
// abandoned by dead writers.
func Open(root string) (*Store, error) { panic("unimplemented") }

// Ingest copies r into the store. If expected is non-empty the bytes must
// hash to it (else an errdefs.ErrInvalid error and nothing is stored); if
// size >= 0 the stream must have exactly that length. Ingesting a blob that
// exists already reads r to verify it and returns the existing blob.
func (s *Store) Ingest(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (Info, error) {
	panic("unimplemented")
}

// Writer starts a streaming ingest; see Writer.
func (s *Store) Writer(ctx context.Context, expected digest.Digest, size int64) (*Writer, error) {
	panic("unimplemented")
}

// Writer is an ingest in progress: Write bytes, then Commit or Close.
type Writer struct{}

// Write appends p to the ingest and to its running hash.
func (w *Writer) Write(p []byte) (int, error) { panic("unimplemented") }

// Digest returns the digest of what was written so far.
func (w *Writer) Digest() digest.Digest { panic("unimplemented") }

// Commit verifies digest and size, fsyncs and renames the blob into place.
// Committing a blob that another writer committed first succeeds.
func (w *Writer) Commit(ctx context.Context) (Info, error) { panic("unimplemented") }

// Close discards the ingest unless it was committed (defer-safe).
func (w *Writer) Close() error { panic("unimplemented") }

// Open returns a reader of the blob; errdefs.ErrNotFound if absent.
func (s *Store) Open(ctx context.Context, d digest.Digest) (ReadSeekCloser, error) {
	panic("unimplemented")
}

// ReadSeekCloser is what Open returns (an *os.File in practice).
type ReadSeekCloser interface {
	io.ReadSeeker
	io.ReaderAt
	io.Closer
}

// ReadAll returns the whole blob; for small blobs such as manifests and configs.
func (s *Store) ReadAll(ctx context.Context, d digest.Digest) ([]byte, error) {
	panic("unimplemented")
}

// Info returns the blob's size; errdefs.ErrNotFound if absent.
func (s *Store) Info(ctx context.Context, d digest.Digest) (Info, error) { panic("unimplemented") }

// Path returns the path of a committed blob (for hard-linking or sendfile).
func (s *Store) Path(d digest.Digest) string { panic("unimplemented") }

// Delete removes a blob; errdefs.ErrNotFound if absent.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error { panic("unimplemented") }

// Walk calls fn for every committed blob.
func (s *Store) Walk(ctx context.Context, fn func(Info) error) error { panic("unimplemented") }

// Verify re-hashes a blob and returns an errdefs.ErrDataLoss error if its
// bytes no longer match its digest.
func (s *Store) Verify(ctx context.Context, d digest.Digest) error { panic("unimplemented") }
