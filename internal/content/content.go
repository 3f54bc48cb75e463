// Package content stores blobs (manifests, configs, layer tarballs, indexes)
// by their sha256 digest.
//
// On disk, under the store's root:
//
//	blobs/sha256/<hex>     committed blobs, mode 0444, never modified
//	ingest/<random>        blobs being written; each has <random>.lock,
//	                       flock-held by its writer while it lives
//	ingest/.new-<random>.lock
//	                       a writer's lock file in the instant before it
//	                       holds it; renamed to <random>.lock once held
//
// A blob becomes visible only by rename after its bytes were hashed while
// streaming, checked against the expected digest and size, and fsynced; a
// mismatch leaves nothing behind. A writer killed mid-write leaves an ingest
// file whose lock no one holds; Open removes such leftovers.
//
// Invariants:
//   - a file under blobs/ always hashes to its name (Verify checks it);
//   - only sha256 is accepted, and a digest is validated before it becomes a
//     path, so no caller-supplied string can name a file outside the store;
//   - an ingest data file exists only while its lock file exists: a writer
//     creates, locks and renames into place <random>.lock before creating
//     <random>, and removes (or commits) <random> before removing
//     <random>.lock, so a lock a sweeper can take means a dead writer.
//
// A Writer starts the write-back of every few MiB as it goes
// (sync_file_range, no wait), so Commit's fsync waits for little.
// SourceVerifiedWriter is the one exception to hashing while streaming: for
// a source that verifies the digest itself and fails instead of ending on a
// mismatch (a registry body), the store does not hash the bytes again; the
// caller commits only after the source ended cleanly.
//
// Ingesting a blob that exists already, with its digest given, writes
// nothing: the bytes are only hashed and counted, so the caller still learns
// whether its stream was the blob it claimed to be.
package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Info describes a committed blob.
type Info struct {
	Digest digest.Digest
	Size   int64
}

// Store is a directory of blobs. It is safe for concurrent use by goroutines
// and by processes.
type Store struct {
	root string
}

// Open opens (creating if needed) the store at root and sweeps ingests
// abandoned by dead writers.
func Open(root string) (*Store, error) {
	s := &Store{root: root}
	for _, dir := range []string{s.blobDir(), s.ingestDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating content store %s: %w", root, err)
		}
	}
	if err := s.sweepIngests(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) blobDir() string   { return filepath.Join(s.root, "blobs", string(digest.SHA256)) }
func (s *Store) ingestDir() string { return filepath.Join(s.root, "ingest") }

// checkDigest is the gate every caller-supplied digest passes before it is
// used in a path.
func checkDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return errdefs.Invalid("invalid digest %q: %w", d, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return errdefs.Invalid("digest %s: unsupported algorithm %s, only sha256 is accepted", d, d.Algorithm())
	}
	return nil
}

// Path returns the path of a committed blob (for hard-linking or sendfile),
// or "" if d is not a valid sha256 digest. It does not check that the blob
// exists.
func (s *Store) Path(d digest.Digest) string {
	if checkDigest(d) != nil {
		return ""
	}
	return s.blobPath(d)
}

func (s *Store) blobPath(d digest.Digest) string { return filepath.Join(s.blobDir(), d.Encoded()) }

// notFound classifies a missing blob and leaves other errors as they are.
func notFound(d digest.Digest, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
	}
	return fmt.Errorf("blob %s: %w", d, err)
}

// Open returns a reader of the blob; errdefs.ErrNotFound if absent.
func (s *Store) Open(ctx context.Context, d digest.Digest) (ReadSeekCloser, error) {
	if err := checkDigest(d); err != nil {
		return nil, err
	}
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return nil, notFound(d, err)
	}
	return f, nil
}

// ReadSeekCloser is what Open returns (an *os.File in practice).
type ReadSeekCloser interface {
	io.ReadSeeker
	io.ReaderAt
	io.Closer
}

// ReadAll returns the whole blob; for small blobs such as manifests and configs.
func (s *Store) ReadAll(ctx context.Context, d digest.Digest) ([]byte, error) {
	if err := checkDigest(d); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.blobPath(d))
	if err != nil {
		return nil, notFound(d, err)
	}
	return b, nil
}

// Info returns the blob's size; errdefs.ErrNotFound if absent.
func (s *Store) Info(ctx context.Context, d digest.Digest) (Info, error) {
	if err := checkDigest(d); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(s.blobPath(d))
	if err != nil {
		return Info{}, notFound(d, err)
	}
	return Info{Digest: d, Size: fi.Size()}, nil
}

// Delete removes a blob; errdefs.ErrNotFound if absent.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	if err := checkDigest(d); err != nil {
		return err
	}
	if err := os.Remove(s.blobPath(d)); err != nil {
		return notFound(d, err)
	}
	return nil
}

// Walk calls fn for every committed blob, in digest order. Files under
// blobs/ whose names are not sha256 hex digests are skipped, and so are blobs
// deleted while the walk runs. An error from fn stops the walk and is
// returned as is.
func (s *Store) Walk(ctx context.Context, fn func(Info) error) error {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return fmt.Errorf("listing blobs in %s: %w", s.root, err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() != nil || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("blob %s: %w", d, err)
		}
		if err := fn(Info{Digest: d, Size: fi.Size()}); err != nil {
			return err
		}
	}
	return nil
}

// Verify re-hashes a blob and returns an errdefs.ErrDataLoss error if its
// bytes no longer match its digest.
func (s *Store) Verify(ctx context.Context, d digest.Digest) error {
	f, err := s.Open(ctx, d)
	if err != nil {
		return err
	}
	defer f.Close()
	v := digest.SHA256.Digester()
	if _, err := io.Copy(v.Hash(), ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("verifying blob %s: %w", d, err)
	}
	if actual := v.Digest(); actual != d {
		return errdefs.DataLoss("blob %s: content hashes to %s", d, actual)
	}
	return nil
}

// ctxReader stops a long copy when ctx is done. It also hides WriterTo and
// ReaderFrom, so io.Copy goes through the buffer it is given.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
