// Package layer stores read-only image layers, each unpacked exactly once and
// keyed by its chain ID, and the writable layers of containers.
//
// Layers are shared: two images with a common base use the same directories.
// A driver decides how a layer's directory relates to its parent's: overlay
// keeps only the layer's own changes (whiteouts in overlay's form) and stacks
// the chain as lowerdirs; vfs keeps a full copy of the tree.
//
// On disk, under <root>/<driver>/:
//
//	layers/<chain-hex>/         one committed layer, never modified
//	    diff/                   the layer's tree
//	    layer.json              {chainID, diffID, parent, size}
//	rw/<id>/                    a container's writable layer
//	    diff/ work/             overlay upperdir and workdir (vfs: diff only)
//	    rw.json                 {id, parent}
//	tmp/<random>/ (+ .lock)     unpacks in progress, flock-held by the writer
//
// A layer becomes visible by one rename of its tmp directory to
// layers/<chain-hex>, after its diffID was verified; if another process got
// there first, the loser's copy is discarded. Open sweeps tmp entries whose
// lock is free (their writer died).
package layer

import (
	"context"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/mount"
)

// Info describes a committed read-only layer.
type Info struct {
	ChainID digest.Digest `json:"chainID"`
	DiffID  digest.Digest `json:"diffID"`
	Parent  digest.Digest `json:"parent,omitempty"` // chain ID of the parent, "" for a base layer
	Size    int64         `json:"size"`             // bytes of the layer's own files on disk
}

// RWInfo describes a container's writable layer.
type RWInfo struct {
	ID     string        `json:"id"`
	Parent digest.Digest `json:"parent,omitempty"` // chain ID of the image's top layer
}

// ChainID returns the chain ID of diffID on top of parent (OCI image spec):
// the diffID itself for a base layer, else sha256(parent + " " + diffID).
func ChainID(parent, diffID digest.Digest) digest.Digest { panic("unimplemented") }

// Store holds layers for one driver.
type Store struct{}

// Options configures Open.
type Options struct {
	Root   string // the store's directory; the driver's subdirectory is created below it
	Driver string // "overlay", "vfs", or "" to choose: overlay when the kernel and filesystem support it
}

// Open opens the store, choosing and probing the driver, and sweeps leftovers
// of dead writers. An explicitly requested driver that does not work here is
// an errdefs.ErrUnavailable error.
func Open(ctx context.Context, opts Options) (*Store, error) { panic("unimplemented") }

// Driver returns the name of the driver in use ("overlay" or "vfs").
func (s *Store) Driver() string { panic("unimplemented") }

// ConcurrentRegister reports whether layers of one chain may be registered
// concurrently, before their parents exist (overlay: yes; vfs copies the
// parent and needs it first).
func (s *Store) ConcurrentRegister() bool { panic("unimplemented") }

// Get returns the layer with the given chain ID; errdefs.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, chainID digest.Digest) (Info, error) {
	panic("unimplemented")
}

// Register unpacks the uncompressed layer tar r on top of parent ("" for a
// base layer) and commits it. If diffID is non-empty the tar must hash to it
// (errdefs.ErrInvalid otherwise, nothing stored). If the layer exists
// already, r is not read and the existing layer is returned.
func (s *Store) Register(ctx context.Context, parent, diffID digest.Digest, r io.Reader) (Info, error) {
	panic("unimplemented")
}

// List returns every committed layer.
func (s *Store) List(ctx context.Context) ([]Info, error) { panic("unimplemented") }

// Remove deletes a layer. It is an errdefs.ErrConflict error while a
// writable layer or another layer names it as parent.
func (s *Store) Remove(ctx context.Context, chainID digest.Digest) error { panic("unimplemented") }

// Dir returns the directory holding the layer's own tree (for tests, df and
// diff tools); for overlay it is the layer's lowerdir.
func (s *Store) Dir(chainID digest.Digest) string { panic("unimplemented") }

// CreateRW creates the writable layer id on top of parent (a chain ID, ""
// for an empty rootfs) and returns the mounts that assemble the rootfs.
func (s *Store) CreateRW(ctx context.Context, id string, parent digest.Digest) ([]mount.Mount, error) {
	panic("unimplemented")
}

// Mounts returns the mounts of an existing writable layer.
func (s *Store) Mounts(ctx context.Context, id string) ([]mount.Mount, error) {
	panic("unimplemented")
}

// GetRW returns an existing writable layer; errdefs.ErrNotFound if absent.
func (s *Store) GetRW(ctx context.Context, id string) (RWInfo, error) { panic("unimplemented") }

// ListRW returns every writable layer.
func (s *Store) ListRW(ctx context.Context) ([]RWInfo, error) { panic("unimplemented") }

// RWDir returns the writable layer's own directory (overlay: the upperdir).
func (s *Store) RWDir(id string) string { panic("unimplemented") }

// RemoveRW deletes a writable layer (it must not be mounted).
func (s *Store) RemoveRW(ctx context.Context, id string) error { panic("unimplemented") }
