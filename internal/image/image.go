// Package image keeps image records: which manifest (in the content store)
// an image is, and which references (tags, digests) name it. It also reads
// manifests and configs in both the OCI and the Docker media types.
//
// An image's ID is the digest of its config, as in Docker. On disk, under
// the store's root:
//
//	lock                  flock guarding every file below
//	refs.json             {"docker.io/library/busybox:latest": "sha256:<id>", ...}
//	                      tags and name@digest references
//	images/<id-hex>.json  one Record per image
//
// Every file is written with atomicfile. Readers take the lock shared,
// writers exclusively; refs.json is re-read under the lock, so concurrent
// processes never lose each other's tags.
package image

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

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
type Store struct{}

// Open opens (creating if needed) the store at root.
func Open(root string) (*Store, error) { panic("unimplemented") }

// Put creates or replaces the record for rec.ID.
func (s *Store) Put(ctx context.Context, rec Record) error { panic("unimplemented") }

// Get returns the image with this ID; errdefs.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, id digest.Digest) (Image, error) { panic("unimplemented") }

// Resolve finds an image as docker does: a full or short (>= 1 hex digit,
// unambiguous) ID with or without "sha256:", a reference with a tag, or
// name@digest. A bare name means name:latest. Not found: errdefs.ErrNotFound
// ("No such image: <s>"); an ambiguous short ID: errdefs.ErrInvalid.
func (s *Store) Resolve(ctx context.Context, s2 string) (Image, error) { panic("unimplemented") }

// List returns every image, newest first.
func (s *Store) List(ctx context.Context) ([]Image, error) { panic("unimplemented") }

// Tag points ref (a tag or a name@digest) at id, moving it from any other
// image. The image must exist.
func (s *Store) Tag(ctx context.Context, ref reference.Named, id digest.Digest) error {
	panic("unimplemented")
}

// Untag removes ref and returns the ID it named; errdefs.ErrNotFound if unknown.
func (s *Store) Untag(ctx context.Context, ref reference.Named) (digest.Digest, error) {
	panic("unimplemented")
}

// Delete removes the record and every reference to it.
func (s *Store) Delete(ctx context.Context, id digest.Digest) error { panic("unimplemented") }
