// Package image keeps image records: which manifest (in the content store)
// an image is, and which references (tags, digests) name it. It also reads
// manifests and configs in both the OCI and the Docker media types.
//
// An image's ID is the digest of its config, as in Docker. On disk, under
// the store's root:
//
//	lock                  flock guarding every file below
//	refs.json             {"docker.io/library/busybox:latest": "sha256:<id>", ...}
//	                      tags and name@digest references, keys in their
//	                      full normalised form, never both a tag and a digest
//	images/<id-hex>.json  one Record per image
//
// Every file is written with atomicfile. Readers take the lock shared,
// writers exclusively; refs.json is re-read under the lock, so concurrent
// processes never lose each other's tags.
//
// Invariants, kept by doing every change under the exclusive lock:
//   - every reference in refs.json names an image whose record exists (Tag
//     checks, Delete removes the references before the record);
//   - a reference names one image; tagging moves it.
//
// Reads are cheap: one read of refs.json, and the records asked for (List
// reads them all). Nothing is cached between calls, because another process
// may have written since.
package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/reference"
)

// Record is what the store keeps of one image.
type Record struct {
	ID       digest.Digest      `json:"id"`       // config digest
	Manifest ocispec.Descriptor `json:"manifest"` // platform manifest in the content store
	// Parent is the image this one was built or committed from, if local.
	Parent  digest.Digest `json:"parent,omitempty"`
	Created time.Time     `json:"created"` // when the record was made here
	// LastTagTime is when a reference last pointed here (docker inspect's Metadata.LastTagTime).
	LastTagTime time.Time `json:"lastTagTime,omitzero"`
}

// Image is a record with the references that name it, sorted.
type Image struct {
	Record
	RepoTags    []string // familiar "name:tag"
	RepoDigests []string // familiar "name@sha256:…"
}

// Store is the image store. Safe for concurrent use by goroutines and processes.
type Store struct {
	root string
	lock *lockfile.Locker
}

// Open opens (creating if needed) the store at root. If no other process is
// using the store, it removes temporary files that crashed writers left.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "images"), 0o700); err != nil {
		return nil, fmt.Errorf("creating image store %s: %w", root, err)
	}
	lock, err := lockfile.New(filepath.Join(root, "lock"))
	if err != nil {
		return nil, fmt.Errorf("opening image store %s: %w", root, err)
	}
	s := &Store{root: root, lock: lock}
	if lock.TryLock() {
		// Writers hold the lock while their temporary files exist, so any
		// seen now belong to the dead.
		defer lock.Unlock()
		for _, dir := range []string{root, s.imageDir()} {
			if err := removeTemps(dir); err != nil {
				lock.Close()
				return nil, err
			}
		}
	}
	return s, nil
}

// Close releases the store's lock file. The Store must not be used after.
func (s *Store) Close() error { return s.lock.Close() }

func removeTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("removing leftover %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// Put creates or replaces the record for rec.ID. A zero Created or
// LastTagTime keeps the value of the record being replaced (Created defaults
// to now for a new record), so re-pulling an image does not make it new.
func (s *Store) Put(ctx context.Context, rec Record) error {
	if err := checkID(rec.ID); err != nil {
		return err
	}
	if rec.Manifest.Digest != "" {
		if err := rec.Manifest.Digest.Validate(); err != nil {
			return errdefs.Invalid("image %s: invalid manifest digest %q: %w", rec.ID, rec.Manifest.Digest, err)
		}
	}
	return s.writeLocked(ctx, func() error {
		old, err := s.readRecord(rec.ID)
		if err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		if rec.Created.IsZero() {
			rec.Created = old.Created
		}
		if rec.Created.IsZero() {
			rec.Created = time.Now().UTC()
		}
		if rec.LastTagTime.IsZero() {
			rec.LastTagTime = old.LastTagTime
		}
		return s.writeRecord(rec)
	})
}

// Get returns the image with this ID; errdefs.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, id digest.Digest) (Image, error) {
	if err := checkID(id); err != nil {
		return Image{}, err
	}
	var img Image
	err := s.readLocked(ctx, func() error {
		rec, err := s.readRecord(id)
		if err != nil {
			return err
		}
		refs, err := s.readRefs()
		if err != nil {
			return err
		}
		img = newImage(rec, refs.byID()[id])
		return nil
	})
	return img, err
}

// List returns every image, newest first (by Created; equal times by ID).
func (s *Store) List(ctx context.Context) ([]Image, error) {
	var out []Image
	err := s.readLocked(ctx, func() error {
		refs, err := s.readRefs()
		if err != nil {
			return err
		}
		ids, err := s.ids()
		if err != nil {
			return err
		}
		byID := refs.byID()
		out = make([]Image, 0, len(ids))
		for _, id := range ids {
			rec, err := s.readRecord(id)
			if err != nil {
				return err
			}
			out = append(out, newImage(rec, byID[id]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Image) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID), string(b.ID))
	})
	return out, nil
}

// newImage attaches to rec the references (full form) that name it.
func newImage(rec Record, refs []reference.Named) Image {
	img := Image{Record: rec}
	for _, r := range refs {
		if reference.Digest(r) != "" {
			img.RepoDigests = append(img.RepoDigests, reference.Familiar(r))
		} else {
			img.RepoTags = append(img.RepoTags, reference.Familiar(r))
		}
	}
	slices.Sort(img.RepoTags)
	slices.Sort(img.RepoDigests)
	return img
}

// checkID is the gate every image ID passes before it becomes a path.
func checkID(id digest.Digest) error {
	if err := id.Validate(); err != nil {
		return errdefs.Invalid("invalid image ID %q: %w", id, err)
	}
	if id.Algorithm() != digest.SHA256 {
		return errdefs.Invalid("invalid image ID %s: only sha256 is accepted", id)
	}
	return nil
}

func (s *Store) imageDir() string { return filepath.Join(s.root, "images") }

func (s *Store) recordPath(id digest.Digest) string {
	return filepath.Join(s.imageDir(), id.Encoded()+".json")
}

// readRecord reads a record; the caller holds the lock and checked id.
func (s *Store) readRecord(id digest.Digest) (Record, error) {
	b, err := os.ReadFile(s.recordPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, errdefs.NotFound("No such image: %s", id)
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading image %s: %w", id, err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, errdefs.DataLoss("image record %s: %w", id, err)
	}
	if rec.ID != id {
		return Record{}, errdefs.DataLoss("image record %s holds image %s", id, rec.ID)
	}
	return rec, nil
}

// writeRecord writes a record; the caller holds the lock exclusively.
func (s *Store) writeRecord(rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding image %s: %w", rec.ID, err)
	}
	return atomicfile.WriteFile(s.recordPath(rec.ID), b, 0o600)
}

// ids lists the IDs of all records, skipping files that are not records.
func (s *Store) ids() ([]digest.Digest, error) {
	entries, err := os.ReadDir(s.imageDir())
	if err != nil {
		return nil, fmt.Errorf("listing images in %s: %w", s.root, err)
	}
	var ids []digest.Digest
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		id := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if ok && id.Validate() == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// writeLocked runs fn under the exclusive lock, waiting for it no longer
// than ctx allows.
func (s *Store) writeLocked(ctx context.Context, fn func() error) error {
	if err := s.lock.LockContext(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	return fn()
}

// readLocked runs fn under the shared lock.
func (s *Store) readLocked(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lock.RLock()
	defer s.lock.RUnlock()
	return fn()
}
