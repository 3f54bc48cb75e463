package layer

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

// tarCopyFile is where a staged layer keeps a copy of its tar, in its tmp
// entry, until it is known whether the tar-split metadata can rebuild it.
const tarCopyFile = "tar"

// Staged is a layer unpacked before its place in a chain is known: an
// archive may hold a layer's tar before the manifest that says which layer
// it sits on. Unpacking it straight from the archive, instead of storing
// the tar as a blob and unpacking that later, reads and hashes it once.
//
// A staged layer lives in a tmp entry of the store, invisible to every
// reader and swept if its owner dies, until Commit makes it a layer with a
// parent (one rename, after a sync, as Register does) or Discard drops it.
// Its diffID is the SHA-256 of every byte read, so it is verified at Commit
// by the caller comparing it with the image's diffID.
//
// For the rare tar that the tar-split metadata cannot rebuild (TarSplit
// false) the caller must keep the tar as a blob. A caller that cannot read
// its source again asks for StageOptions.KeepTar: a copy of the tar is
// written (unsynced, in the tmp entry) while unpacking, OpenTar reads it,
// and it is dropped at once when the metadata can rebuild the tar.
type Staged struct {
	s    *Store
	t    *tmpEntry // nil once committed or discarded
	res  applied
	copy string // path of the tar's copy; "" once dropped
}

// StageOptions tune Stage.
type StageOptions struct {
	// KeepTar keeps a copy of the tar until it is known whether the
	// metadata rebuilds it (see Staged); it costs a write of every byte.
	KeepTar bool
}

// Stage unpacks the uncompressed layer tar r into a staged layer. Only a
// driver that stacks layers can (ConcurrentRegister): a vfs layer starts as
// a copy of its parent, so it cannot be unpacked without one
// (errdefs.ErrInvalid).
func (s *Store) Stage(ctx context.Context, r io.Reader, opts StageOptions) (*Staged, error) {
	if !s.drv.stacks() {
		return nil, errdefs.Invalid("staging a layer: the %s driver needs the parent first", s.drv.name())
	}
	t, err := newTmp(filepath.Join(s.root, "tmp"))
	if err != nil {
		return nil, err
	}
	st := &Staged{s: s, t: t}
	if opts.KeepTar {
		st.copy = filepath.Join(t.dir, tarCopyFile)
	}
	if err := st.unpack(ctx, r); err != nil {
		st.Discard()
		return nil, err
	}
	return st, nil
}

func (st *Staged) unpack(ctx context.Context, r io.Reader) error {
	if err := os.MkdirAll(filepath.Join(st.t.dir, "diff"), 0o755); err != nil {
		return fmt.Errorf("staging layer: %w", err)
	}
	var tarCopy io.Writer
	if st.copy != "" {
		f, err := os.OpenFile(st.copy, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("staging layer: %w", err)
		}
		defer f.Close()
		tarCopy = f
	}
	var err error
	st.res, err = st.s.apply(ctx, st.t.dir, r, tarCopy)
	if err != nil {
		return fmt.Errorf("staging layer: %w", err)
	}
	if st.res.split {
		return st.dropCopy()
	}
	return nil
}

func (st *Staged) dropCopy() error {
	if st.copy == "" {
		return nil
	}
	if err := os.Remove(st.copy); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("staging layer %s: %w", st.res.diffID, err)
	}
	st.copy = ""
	return nil
}

// DiffID is the digest of the tar that was read.
func (st *Staged) DiffID() digest.Digest { return st.res.diffID }

// TarSize is the length of the tar that was read.
func (st *Staged) TarSize() int64 { return st.res.size }

// TarSplit reports whether the committed layer will rebuild its tar (see
// Info.TarSplit). When it cannot, OpenTar returns the copy kept instead.
func (st *Staged) TarSplit() bool { return st.res.split }

// OpenTar reads the copy of the tar kept (StageOptions.KeepTar) for a layer
// whose metadata cannot rebuild it; errdefs.ErrNotFound for any other, or
// after Commit.
func (st *Staged) OpenTar() (io.ReadCloser, error) {
	if st.copy == "" || st.t == nil {
		return nil, errdefs.NotFound("staged layer %s: no copy of its tar is kept", st.res.diffID)
	}
	f, err := os.Open(st.copy)
	if err != nil {
		return nil, fmt.Errorf("staged layer %s: %w", st.res.diffID, err)
	}
	return f, nil
}

// Commit makes the staged layer the layer with diffID on top of parent (""
// for a base layer) and returns it; if that layer exists already it is
// returned and the staged copy is left for Discard. A staged layer commits
// once; after that Commit is an errdefs.ErrNotFound error.
func (st *Staged) Commit(ctx context.Context, parent digest.Digest) (Info, error) {
	if st.t == nil {
		return Info{}, errdefs.NotFound("staged layer %s: already committed or discarded", st.res.diffID)
	}
	if parent != "" {
		if err := validChain(parent); err != nil {
			return Info{}, err
		}
	}
	return st.s.once(ctx, ChainID(parent, st.res.diffID), func() (Info, error) {
		return st.commit(ctx, parent)
	})
}

func (st *Staged) commit(ctx context.Context, parent digest.Digest) (Info, error) {
	if err := st.dropCopy(); err != nil {
		return Info{}, err
	}
	info := Info{
		ChainID: ChainID(parent, st.res.diffID), DiffID: st.res.diffID, Parent: parent,
		TarSize: st.res.size, TarSplit: st.res.split,
	}
	var err error
	if info.Size, err = diskUsage(filepath.Join(st.t.dir, "diff")); err != nil {
		return Info{}, err
	}
	if err := st.s.writeRecord(st.t.dir, "layer.json", info); err != nil {
		return Info{}, err
	}
	t := st.t
	st.t = nil
	defer t.release()
	return st.s.commit(ctx, t, info)
}

// Discard drops the staged layer unless it was committed (defer-safe).
func (st *Staged) Discard() error {
	if st.t == nil {
		return nil
	}
	t := st.t
	st.t = nil
	return t.release()
}
