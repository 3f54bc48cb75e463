// Package layer stores read-only image layers, each unpacked exactly once and
// keyed by its chain ID, and the writable layers of containers.
//
// Layers are shared: two images with a common base use the same directories.
// A driver decides how a layer's directory relates to its parent's: overlay
// keeps only the layer's own changes (whiteouts in overlay's form) and stacks
// the chain as lowerdirs; vfs keeps a full copy of the tree, made by copying
// the parent's (hardlinks, owners, modes, times, xattrs and devices kept) and
// applying the layer with whiteouts turned into deletions.
//
// On disk, under <root>/<driver>/:
//
//	layers/<chain-hex>/         one committed layer, never modified
//	    diff/                   the layer's tree
//	    layer.json              {chainID, diffID, parent, size, tarSplit, tarSize}
//	    tar-split.json.gz       the layer tar's bytes other than file contents
//	                            (tar-split's gzip'd JSON lines); absent when
//	                            the tar cannot be rebuilt (tarSplit false)
//	rw/<id>/                    a container's writable layer
//	    diff/ work/             overlay upperdir and workdir (vfs: diff only);
//	                            owned by the host range's start for a
//	                            remapped container (ShiftRW, userns.go)
//	    rw.json                 {id, parent}
//	tmp/<random>/ (+ .lock)     work in progress, flock-held by its owner:
//	                            unpacks, staged layers (see Staged; with tar,
//	                            an unsynced copy of the layer's tar), rw layers
//	                            being made, removals, probes
//	locks/<chain-hex>.lock      held while a layer is unpacked, so that
//	                            concurrent registrations of it unpack it once
//	store.lock                  shared by whatever adds a reference to a layer
//	                            (commit of a child, CreateRW), exclusive for Remove
//	empty/                      (overlay) the lower of a rootfs with no parent
//	.probe-ok                   (overlay) the kernel release and device where
//	                            a test mount worked, so later processes skip it
//
// A layer becomes visible by one rename of its tmp directory to
// layers/<chain-hex>, after its diffID was verified and the file system
// synced; if another process got there first, the loser's copy is
// discarded. Unpacking syncs no file on its own: Apply starts each file's
// write-back as soon as it is written (sync_file_range, no wait) and one
// syncfs before the rename waits for what is left, so the disk writes while
// the stream is still being unpacked and the sync costs little. Removal is the reverse: one rename into tmp, then deletion, so
// a crash never leaves half a layer under layers/. Open sweeps tmp entries
// whose lock is free (their owner died).
//
// Writable layers are synced when created (CreateRW) but not when removed
// (RemoveRW: a power loss may bring one back whole), and an --rm
// container's is not synced at all (CreateEphemeralRW: a power loss may
// leave it without its container, or its rw.json empty); the engine removes
// a writable layer whose container record is gone (RWIDs), and RemoveRW
// needs no readable rw.json.
//
// A layer's uncompressed tar need not be kept as a blob: Register records
// its tar-split metadata (headers, PAX records, padding, end blocks, and the
// name and size of each file's content) while unpacking, from Apply's own
// parse of the tar (archive.Tap: the tar is parsed once), and Diff rebuilds
// the exact tar, the bytes its diffID names, from the metadata and the files
// of diff/. The rebuild opens files beneath diff/ only, never through a
// symlink, and checks the result against the diffID. No per-file CRC-64 is
// recorded (it cost as much CPU as the diffID's SHA-256 and the diffID check
// catches any changed byte); one recorded by earlier versions is still
// checked. A tar that changes its own content (writes
// a path twice, whiteouts a file it wrote) or holds content Apply does not
// keep as a file (sparse files) keeps no metadata (Info.TarSplit false):
// its blob stays the only copy of its tar.
//
// Driver choice: Options.Driver "" takes overlay when .probe-ok is valid or
// a test mount succeeds, unless the store already holds a vfs directory (a
// store does not silently change drivers under existing layers).
package layer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

// Info describes a committed read-only layer.
type Info struct {
	ChainID digest.Digest `json:"chainID"`
	DiffID  digest.Digest `json:"diffID"`
	Parent  digest.Digest `json:"parent,omitempty"` // chain ID of the parent, "" for a base layer
	Size    int64         `json:"size"`             // bytes of regular files in the layer's directory, hardlinks once (vfs: the whole tree)
	// TarSplit says that the layer's tar-split metadata is stored: Diff
	// can rebuild its uncompressed tar, so its blob need not be kept.
	TarSplit bool `json:"tarSplit,omitempty"`
	// TarSize is the length of the uncompressed tar (valid with TarSplit).
	TarSize int64 `json:"tarSize,omitempty"`
}

// RWInfo describes a container's writable layer.
type RWInfo struct {
	ID     string        `json:"id"`
	Parent digest.Digest `json:"parent,omitempty"` // chain ID of the image's top layer
}

// ChainID returns the chain ID of diffID on top of parent (OCI image spec):
// the diffID itself for a base layer, else sha256(parent + " " + diffID).
func ChainID(parent, diffID digest.Digest) digest.Digest {
	if parent == "" {
		return diffID
	}
	return digest.FromString(parent.String() + " " + diffID.String())
}

// Store holds layers for one driver. It is safe for concurrent use by
// goroutines and by processes.
type Store struct {
	root string // <root>/<driver>
	drv  driver
	lock *lockfile.Locker // store.lock
}

// Options configures Open.
type Options struct {
	Root   string // the store's directory; the driver's subdirectory is created below it
	Driver string // "overlay", "vfs", or "" to choose: overlay when the kernel and filesystem support it
}

// Open opens the store, choosing and probing the driver, and sweeps leftovers
// of dead writers. An explicitly requested driver that does not work here is
// an errdefs.ErrUnavailable error.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Root == "" {
		return nil, errdefs.Invalid("layer store: no root directory")
	}
	drv, err := chooseDriver(ctx, opts.Root, opts.Driver)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(opts.Root, drv.name())
	for _, dir := range []string{"layers", "rw", "tmp", "locks"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o700); err != nil {
			return nil, fmt.Errorf("creating layer store %s: %w", root, err)
		}
	}
	lock, err := lockfile.New(filepath.Join(root, "store.lock"))
	if err != nil {
		return nil, fmt.Errorf("opening layer store %s: %w", root, err)
	}
	s := &Store{root: root, drv: drv, lock: lock}
	if err := s.sweep(ctx); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store's lock file. The Store must not be used after.
func (s *Store) Close() error { return s.lock.Close() }

// Driver returns the name of the driver in use ("overlay" or "vfs").
func (s *Store) Driver() string { return s.drv.name() }

// ConcurrentRegister reports whether layers of one chain may be registered
// concurrently, before their parents exist (overlay: yes; vfs copies the
// parent and needs it first).
func (s *Store) ConcurrentRegister() bool { return s.drv.stacks() }

// Get returns the layer with the given chain ID; errdefs.ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, chainID digest.Digest) (Info, error) {
	if err := validChain(chainID); err != nil {
		return Info{}, err
	}
	var info Info
	if err := readJSON(filepath.Join(s.layerPath(chainID), "layer.json"), &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, errdefs.NotFound("layer %s: not found", chainID)
		}
		return Info{}, fmt.Errorf("layer %s: %w", chainID, err)
	}
	return info, nil
}

// List returns every committed layer.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "layers"))
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	infos := make([]Info, 0, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var info Info
		err := readJSON(filepath.Join(s.root, "layers", e.Name(), "layer.json"), &info)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while we listed
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.Name(), err)
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// Dir returns the directory holding the layer's own tree (for tests, df and
// diff tools); for overlay it is the layer's lowerdir. It returns "" for a
// malformed chain ID.
func (s *Store) Dir(chainID digest.Digest) string {
	if validChain(chainID) != nil {
		return ""
	}
	return filepath.Join(s.layerPath(chainID), "diff")
}

func (s *Store) layerPath(chainID digest.Digest) string {
	return filepath.Join(s.root, "layers", chainID.Encoded())
}

// validChain rejects what could not be a chain ID, before it becomes a path.
func validChain(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return errdefs.Invalid("chain ID %q: %w", d, err)
	}
	return nil
}

// readJSON reads a record; a record that does not parse is data loss, since
// every record is written whole by rename.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errdefs.DataLoss("parsing %s: %w", path, err)
	}
	return nil
}
