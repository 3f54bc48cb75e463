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
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
)

// CreateRW creates the writable layer id on top of parent (a chain ID, ""
// for an empty rootfs) and returns the mounts that assemble the rootfs.
// Every layer of the parent's chain must exist (errdefs.ErrNotFound naming
// the missing one); an existing id is an errdefs.ErrConflict error.
func (s *Store) CreateRW(ctx context.Context, id string, parent digest.Digest) ([]mount.Mount, error) {
	return s.createRW(ctx, id, parent, true)
}

// CreateEphemeralRW is CreateRW without a single fsync, for a writable layer
// that dies with its container (run --rm): its data never needs to outlive
// the container, and a power loss may leave it torn or without its
// container, which the owner's sweep of writable layers without a
// container (RWIDs, RemoveRW) removes. A kill -9 leaves nothing the
// durable path would not (the page cache holds what was written).
func (s *Store) CreateEphemeralRW(ctx context.Context, id string, parent digest.Digest) ([]mount.Mount, error) {
	return s.createRW(ctx, id, parent, false)
}

func (s *Store) createRW(ctx context.Context, id string, parent digest.Digest, durable bool) ([]mount.Mount, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	if parent != "" {
		if err := validChain(parent); err != nil {
			return nil, err
		}
	}
	if _, err := s.GetRW(ctx, id); err == nil {
		return nil, errdefs.Conflict("writable layer %s: already exists", id)
	}
	// Shared: Remove cannot take a layer of the chain away between the
	// check below and the rw record that keeps it.
	s.lock.RLock()
	defer s.lock.RUnlock()
	lowers, err := s.lowers(ctx, parent)
	if err != nil {
		return nil, fmt.Errorf("creating writable layer %s: %w", id, err)
	}
	t, err := newTmp(filepath.Join(s.root, "tmp"))
	if err != nil {
		return nil, err
	}
	defer t.release()
	if err := s.fillRW(ctx, t.dir, id, parent, lowers, durable); err != nil {
		return nil, fmt.Errorf("creating writable layer %s: %w", id, err)
	}
	dst := s.rwPath(id)
	err = os.Rename(t.dir, dst)
	if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return nil, errdefs.Conflict("writable layer %s: already exists", id)
	}
	if err != nil {
		return nil, fmt.Errorf("creating writable layer %s: %w", id, err)
	}
	if durable {
		if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
			return nil, err
		}
	}
	return s.drv.mounts(dst, lowers), nil
}

func (s *Store) fillRW(ctx context.Context, dir, id string, parent digest.Digest, lowers []string, durable bool) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	parentDiff := ""
	if len(lowers) > 0 {
		parentDiff = lowers[0]
	}
	if err := s.drv.initRW(ctx, dir, parentDiff); err != nil {
		return err
	}
	if !durable {
		// The directory is renamed into place only once complete, so
		// its record need not be replaced atomically.
		b, err := json.Marshal(RWInfo{ID: id, Parent: parent})
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "rw.json"), b, 0o644)
	}
	if !s.drv.stacks() && parent != "" {
		// vfs copied a whole tree: make it durable before it is committed.
		if err := syncFS(dir); err != nil {
			return err
		}
	}
	return s.writeRecord(dir, "rw.json", RWInfo{ID: id, Parent: parent})
}

// lowers returns the diff directories a rootfs over parent stacks, topmost
// first: the whole chain for overlay, the parent alone for vfs (its copy is
// complete).
func (s *Store) lowers(ctx context.Context, parent digest.Digest) ([]string, error) {
	var dirs []string
	for cur := parent; cur != ""; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		info, err := s.Get(ctx, cur)
		if errdefs.IsNotFound(err) && cur != parent {
			return nil, errdefs.NotFound("layer %s (in the chain of %s): not found", cur, parent)
		}
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, s.Dir(cur))
		if !s.drv.stacks() {
			break
		}
		if len(dirs) > maxOverlayDepth {
			return nil, errdefs.Invalid("layer %s: chain deeper than the %d layers overlay can stack", parent, maxOverlayDepth)
		}
		cur = info.Parent
	}
	return dirs, nil
}

// Mounts returns the mounts of an existing writable layer.
func (s *Store) Mounts(ctx context.Context, id string) ([]mount.Mount, error) {
	info, err := s.GetRW(ctx, id)
	if err != nil {
		return nil, err
	}
	lowers, err := s.lowers(ctx, info.Parent)
	if err != nil {
		return nil, fmt.Errorf("mounts of writable layer %s: %w", id, err)
	}
	return s.drv.mounts(s.rwPath(id), lowers), nil
}

// GetRW returns an existing writable layer; errdefs.ErrNotFound if absent.
func (s *Store) GetRW(ctx context.Context, id string) (RWInfo, error) {
	if err := validID(id); err != nil {
		return RWInfo{}, err
	}
	var info RWInfo
	if err := readJSON(filepath.Join(s.rwPath(id), "rw.json"), &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return RWInfo{}, errdefs.NotFound("writable layer %s: not found", id)
		}
		return RWInfo{}, fmt.Errorf("writable layer %s: %w", id, err)
	}
	return info, nil
}

// ListRW returns every writable layer.
func (s *Store) ListRW(ctx context.Context) ([]RWInfo, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "rw"))
	if err != nil {
		return nil, fmt.Errorf("listing writable layers: %w", err)
	}
	infos := make([]RWInfo, 0, len(entries))
	for _, e := range entries {
		info, err := s.GetRW(ctx, e.Name())
		if errdefs.IsNotFound(err) {
			continue // removed while we listed
		}
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// RWIDs returns the IDs of the writable layers, reading no record: what a
// sweep compares with its own records.
func (s *Store) RWIDs(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "rw"))
	if err != nil {
		return nil, fmt.Errorf("listing writable layers: %w", err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if validID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, ctx.Err()
}

// RWDir returns the writable layer's own directory (overlay: the upperdir;
// vfs: the whole rootfs). It returns "" for a malformed id.
func (s *Store) RWDir(id string) string {
	if validID(id) != nil {
		return ""
	}
	return filepath.Join(s.rwPath(id), "diff")
}

// RemoveRW deletes a writable layer (it must not be mounted);
// errdefs.ErrNotFound if absent. It does not fsync: a power loss may bring
// the layer back whole, as an image layer's removal would not; its owner
// removes its own record after it (unsynced too), and sweeps a writable
// layer that outlived its record (RWIDs).
func (s *Store) RemoveRW(ctx context.Context, id string) error {
	// Not GetRW: an ephemeral layer torn by a power loss has no readable
	// record and must still go.
	if err := validID(id); err != nil {
		return err
	}
	t, err := s.moveToTmp(s.rwPath(id), false)
	if errors.Is(err, fs.ErrNotExist) {
		return errdefs.NotFound("writable layer %s: not found", id)
	}
	if err != nil {
		return err
	}
	return t.release()
}

// Remove deletes a layer. It is an errdefs.ErrConflict error while a
// writable layer or another layer names it as parent.
func (s *Store) Remove(ctx context.Context, chainID digest.Digest) error {
	if _, err := s.Get(ctx, chainID); err != nil {
		return err
	}
	t, err := s.detach(ctx, chainID)
	if err != nil {
		return err
	}
	// The per-layer lock only dedupes unpacks; dropping it is safe.
	os.Remove(filepath.Join(s.root, "locks", chainID.Encoded()+lockSuffix))
	// Deleting the files can take long: it happens after the store lock
	// is released, out of sight under tmp/.
	return t.release()
}

// detach moves an unused layer out of layers/ under the exclusive store
// lock, so that no new reference to it can appear meanwhile.
func (s *Store) detach(ctx context.Context, chainID digest.Digest) (*tmpEntry, error) {
	if err := s.lock.LockContext(ctx); err != nil {
		return nil, err
	}
	defer s.lock.Unlock()
	if err := s.checkUnused(ctx, chainID); err != nil {
		return nil, err
	}
	t, err := s.moveToTmp(s.layerPath(chainID), true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errdefs.NotFound("layer %s: not found", chainID)
	}
	return t, err
}

func (s *Store) checkUnused(ctx context.Context, chainID digest.Digest) error {
	layers, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, l := range layers {
		if l.Parent == chainID {
			return errdefs.Conflict("layer %s: parent of layer %s", chainID, l.ChainID)
		}
	}
	rws, err := s.ListRW(ctx)
	if err != nil {
		return err
	}
	for _, rw := range rws {
		if rw.Parent == chainID {
			return errdefs.Conflict("layer %s: used by writable layer %s", chainID, rw.ID)
		}
	}
	return nil
}

func (s *Store) rwPath(id string) string { return filepath.Join(s.root, "rw", id) }

// validID accepts the ids engines use (hex container IDs, names) and keeps
// them single path elements.
func validID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' || id[0] == '-' {
		return errdefs.Invalid("writable layer id %q: want 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'", id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return errdefs.Invalid("writable layer id %q: want 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'", id)
		}
	}
	return nil
}
