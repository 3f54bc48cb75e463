package content

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
)

// copyBufs holds the buffers Ingest copies through: larger than io.Copy's
// 32 KiB so that a layer costs fewer write(2) calls.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// Ingest copies r into the store. If expected is non-empty the bytes must
// hash to it (else an errdefs.ErrInvalid error and nothing is stored); if
// size >= 0 the stream must have exactly that length. Ingesting a blob that
// exists already reads r to verify it and returns the existing blob.
func (s *Store) Ingest(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (Info, error) {
	w, err := s.Writer(ctx, expected, size)
	if err != nil {
		return Info{}, err
	}
	defer w.Close()
	if err := w.readFrom(ctx, r); err != nil {
		return Info{}, err
	}
	return w.Commit(ctx)
}

// readFrom writes all of r to w. It is not io.Copy so that a failing source
// and a refused write (already naming the blob) get different messages.
func (w *Writer) readFrom(ctx context.Context, r io.Reader) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("reading source of %s: %w", w.name(), rerr)
		}
	}
}

// Writer starts a streaming ingest; see Writer. An invalid or non-sha256
// expected digest is errdefs.ErrInvalid.
func (s *Store) Writer(ctx context.Context, expected digest.Digest, size int64) (*Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &Writer{s: s, expected: expected, size: size, h: digest.SHA256.Digester().Hash()}
	if expected != "" {
		if err := checkDigest(expected); err != nil {
			return nil, err
		}
		if _, err := os.Stat(s.blobPath(expected)); err == nil {
			w.verifyOnly = true
			return w, nil
		}
	}
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	w.in = in
	return w, nil
}

// SourceVerifiedWriter is Writer for a stream whose source checks it
// against expected as it is read and fails instead of ending when it does
// not match (as registry.Repo.OpenBlob's reader does). The Writer does not
// hash the bytes a second time; the caller must Commit only after the
// source has ended cleanly (io.EOF), which is its verification. Size is
// still checked, so expected and size are both required (errdefs.ErrInvalid
// otherwise). Pulls use it: SHA-256 is the costliest step per byte of a
// pull, and each compressed byte was hashed twice.
func (s *Store) SourceVerifiedWriter(ctx context.Context, expected digest.Digest, size int64) (*Writer, error) {
	if expected == "" || size < 0 {
		return nil, errdefs.Invalid("source-verified blob %q: needs its digest and size", expected)
	}
	w, err := s.Writer(ctx, expected, size)
	if err != nil {
		return nil, err
	}
	w.h = nil
	return w, nil
}

// Writer is an ingest in progress: Write bytes, then Commit or Close.
//
// A Writer whose expected digest names a blob the store has already writes
// nothing to disk: it hashes and counts what it is given so that Commit can
// still reject a stream that is not that blob. If the blob is deleted before
// Commit (garbage collection, which gc.lock normally keeps away), Commit
// fails with errdefs.ErrConflict and the caller must ingest again. A Writer
// is not safe for concurrent use.
type Writer struct {
	s          *Store
	expected   digest.Digest
	size       int64
	h          hash.Hash // nil: the source verifies (SourceVerifiedWriter)
	n          int64
	in         *ingest // nil when verifyOnly
	verifyOnly bool
	done       bool
	// failed is set by a failed write: the file may then hold bytes the
	// hash did not see, so the ingest must never be committed.
	failed error

	started     int64 // bytes whose write-back was started
	speculative bool  // the blob may be dropped before Commit (see Speculative)
}

// name says which blob the writer is for, for error messages.
func (w *Writer) name() string {
	if w.expected != "" {
		return "blob " + string(w.expected)
	}
	return "blob"
}

// Write appends p to the ingest and to its running hash. Writing past the
// expected size fails at once with errdefs.ErrInvalid.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("writing %s: writer already committed or closed", w.name())
	}
	if w.size >= 0 && w.n+int64(len(p)) > w.size {
		return 0, errdefs.Invalid("%s: size mismatch: more than the expected %d bytes", w.name(), w.size)
	}
	if w.failed != nil {
		return 0, w.failed
	}
	if w.in != nil {
		if n, err := w.in.f.Write(p); err != nil {
			w.failed = fmt.Errorf("writing %s: %w", w.name(), err)
			return n, w.failed
		}
		w.writeBack(int64(len(p)))
	}
	if w.h != nil {
		w.h.Write(p)
	}
	w.n += int64(len(p))
	return len(p), nil
}

// writeBackChunk is how much a Writer lets the page cache hold before it
// starts writing it to disk.
const writeBackChunk = 8 << 20

// writeBack starts writing the last chunk to disk without waiting, so that
// Commit's fsync (and a pull's other syncs) wait for little instead of for
// the whole blob: the disk works while the blob is still downloading.
func (w *Writer) writeBack(n int64) {
	end := w.n + n
	if w.speculative || end-w.started < writeBackChunk {
		return
	}
	unix.SyncFileRange(int(w.in.f.Fd()), w.started, end-w.started, unix.SYNC_FILE_RANGE_WRITE)
	w.started = end
}

// Speculative tells the Writer that the caller may well drop the blob
// instead of committing it: it then starts no write-back, so a dropped
// blob costs no disk writes, and Commit's fsync waits for all of it.
func (w *Writer) Speculative() { w.speculative = true }

// Digest returns the digest of what was written so far; for a
// SourceVerifiedWriter, the expected digest.
func (w *Writer) Digest() digest.Digest {
	if w.h == nil {
		return w.expected
	}
	return digest.NewDigest(digest.SHA256, w.h)
}

// Commit verifies digest and size, fsyncs and renames the blob into place.
// Committing a blob that another writer committed first succeeds. On any
// error the ingest is discarded and nothing becomes visible.
func (w *Writer) Commit(ctx context.Context) (Info, error) {
	if w.done {
		return Info{}, fmt.Errorf("committing %s: writer already committed or closed", w.name())
	}
	defer w.Close()
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if w.failed != nil {
		return Info{}, w.failed
	}
	actual := w.Digest()
	if w.size >= 0 && w.n != w.size {
		return Info{}, errdefs.Invalid("%s: size mismatch: expected %d bytes, got %d", w.name(), w.size, w.n)
	}
	if w.expected != "" && actual != w.expected {
		return Info{}, errdefs.Invalid("blob digest mismatch: expected %s, actual %s", w.expected, actual)
	}
	info := Info{Digest: actual, Size: w.n}
	if w.verifyOnly {
		w.done = true
		if _, err := os.Stat(w.s.blobPath(actual)); err != nil {
			// The bytes were never kept, so there is nothing to put back.
			return Info{}, errdefs.Conflict("blob %s was deleted while being ingested: %w", actual, err)
		}
		return info, nil
	}
	if err := w.in.commit(w.s.blobPath(actual)); err != nil {
		return Info{}, fmt.Errorf("committing blob %s: %w", actual, err)
	}
	w.done = true
	w.in.release()
	return info, nil
}

// Close discards the ingest unless it was committed (defer-safe).
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.in != nil {
		w.in.discard()
	}
	return nil
}

// commit makes the ingest file the blob at target. Blobs are immutable, so
// if target exists already (another writer won the race) the copy is
// dropped; RENAME_NOREPLACE makes that check and the rename one step.
func (in *ingest) commit(target string) error {
	if err := in.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", in.path, err)
	}
	if err := in.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", in.path, err)
	}
	in.f = nil
	err := unix.Renameat2(unix.AT_FDCWD, in.path, unix.AT_FDCWD, target, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// The filesystem cannot do RENAME_NOREPLACE: check, then rename.
		// Losing the race only rewrites identical bytes.
		if _, err = os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			err = os.Rename(in.path, target)
		} else if err == nil {
			err = unix.EEXIST
		}
	}
	switch {
	case errors.Is(err, unix.EEXIST):
		return os.Remove(in.path)
	case err != nil:
		return fmt.Errorf("rename %s to %s: %w", in.path, target, err)
	}
	return atomicfile.SyncDir(filepath.Dir(target))
}
