package layer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

// Register unpacks the uncompressed layer tar r on top of parent ("" for a
// base layer) and commits it. If diffID is non-empty the tar must hash to it
// (errdefs.ErrInvalid otherwise, nothing stored). If the layer exists
// already, r is not read and the existing layer is returned.
//
// With the overlay driver the parent need not exist yet (see
// ConcurrentRegister); vfs copies it and returns errdefs.ErrNotFound without.
func (s *Store) Register(ctx context.Context, parent, diffID digest.Digest, r io.Reader) (Info, error) {
	if parent != "" {
		if err := validChain(parent); err != nil {
			return Info{}, err
		}
	}
	if diffID == "" {
		return s.unpack(ctx, parent, "", r)
	}
	if err := diffID.Validate(); err != nil {
		return Info{}, errdefs.Invalid("diffID %q: %w", diffID, err)
	}
	return s.once(ctx, ChainID(parent, diffID), func() (Info, error) {
		return s.unpack(ctx, parent, diffID, r)
	})
}

// once returns the layer chain if it exists, and otherwise runs create
// holding the chain's lock: concurrent registrations of one layer (two
// pulls sharing a base) take turns, so the layer is made once and the
// others return it without reading their streams.
func (s *Store) once(ctx context.Context, chain digest.Digest, create func() (Info, error)) (Info, error) {
	if info, err := s.Get(ctx, chain); !errdefs.IsNotFound(err) {
		return info, err
	}
	l, err := lockfile.New(filepath.Join(s.root, "locks", chain.Encoded()+lockSuffix))
	if err != nil {
		return Info{}, err
	}
	defer l.Close()
	if err := l.LockContext(ctx); err != nil {
		return Info{}, err
	}
	defer l.Unlock()
	if info, err := s.Get(ctx, chain); !errdefs.IsNotFound(err) {
		return info, err
	}
	return create()
}

// unpack builds the layer in a tmp entry and commits it.
func (s *Store) unpack(ctx context.Context, parent, diffID digest.Digest, r io.Reader) (Info, error) {
	t, err := newTmp(filepath.Join(s.root, "tmp"))
	if err != nil {
		return Info{}, err
	}
	defer t.release()
	diff := filepath.Join(t.dir, "diff")
	if err := os.MkdirAll(diff, 0o755); err != nil {
		return Info{}, fmt.Errorf("unpacking layer: %w", err)
	}
	if !s.drv.stacks() && parent != "" {
		if err := s.initFromParent(ctx, diff, parent); err != nil {
			return Info{}, err
		}
	}
	res, err := s.apply(ctx, t.dir, r, nil)
	if err != nil {
		return Info{}, fmt.Errorf("unpacking layer %s: %w", orUnknown(diffID), err)
	}
	if diffID != "" && res.diffID != diffID {
		return Info{}, errdefs.Invalid("layer %s: content has diffID %s", diffID, res.diffID)
	}
	info := Info{
		ChainID: ChainID(parent, res.diffID), DiffID: res.diffID, Parent: parent,
		TarSize: res.size, TarSplit: res.split,
	}
	if info.Size, err = s.unpackedSize(diff, res); err != nil {
		return Info{}, err
	}
	if err := s.writeRecord(t.dir, "layer.json", info); err != nil {
		return Info{}, err
	}
	return s.commit(ctx, t, info)
}

// initFromParent copies the parent's tree for vfs, holding the store lock
// shared so that the parent cannot be removed while it is read.
func (s *Store) initFromParent(ctx context.Context, diff string, parent digest.Digest) error {
	s.lock.RLock()
	defer s.lock.RUnlock()
	if _, err := s.Get(ctx, parent); err != nil {
		return fmt.Errorf("parent of the layer: %w", err)
	}
	if err := s.drv.initDiff(ctx, diff, s.Dir(parent)); err != nil {
		return fmt.Errorf("copying parent layer %s: %w", parent, err)
	}
	return nil
}

// applied is what unpacking a layer's stream found out about it.
type applied struct {
	diffID digest.Digest
	size   int64 // bytes of the stream
	split  bool  // its tar-split metadata was kept: Diff can rebuild it
	files  int64 // bytes of regular-file content Apply wrote
}

// unpackedSize is the layer's Size: the content Apply wrote when that is
// all diff holds, which saves walking the tree again. It is when diff
// started empty (a stacking driver) and no content was written twice or
// removed (the tar-split check, res.split: each file written once, hardlinks
// written not at all); otherwise the tree is measured.
func (s *Store) unpackedSize(diff string, res applied) (int64, error) {
	if s.drv.stacks() && res.split {
		return res.files, nil
	}
	return diskUsage(diff)
}

// apply unpacks r into dir/diff and records its tar-split metadata in
// dir/tar-split.json.gz from the same parse (see recorder). Apply reads the
// stream to its end, past the tar's end-of-archive blocks: all of it is
// part of the blob the diffID names, so it is hashed and recorded too. If
// tarCopy is not nil, it gets a copy of the stream (see Staged).
func (s *Store) apply(ctx context.Context, dir string, r io.Reader, tarCopy io.Writer) (applied, error) {
	rec, err := newRecorder(filepath.Join(dir, splitFile))
	if err != nil {
		return applied{}, err
	}
	defer rec.close()
	hs := startHasher(tarCopy)
	defer hs.finish()
	tee := io.TeeReader(r, hs)
	files, err := archive.Apply(ctx, filepath.Join(dir, "diff"), tee,
		archive.ApplyOptions{Whiteouts: s.drv.whiteouts(), Tap: rec})
	if err == nil {
		if _, err = io.Copy(io.Discard, tee); err != nil {
			err = fmt.Errorf("reading the end of the tar: %w", err)
		}
	}
	if err != nil {
		rec.finish(err)
		return applied{}, err
	}
	res := applied{files: files}
	if res.diffID, res.size, err = hs.finish(); err != nil {
		return applied{}, err
	}
	var why string
	if res.split, why, err = rec.finish(nil); err != nil {
		return applied{}, err
	}
	if !res.split {
		slog.DebugContext(ctx, "layer tar cannot be rebuilt from its directory, its blob must be kept",
			"diffID", res.diffID, "reason", why)
	}
	return res, nil
}

// commit makes the unpacked layer durable and visible, or returns the
// layer another writer committed first.
func (s *Store) commit(ctx context.Context, t *tmpEntry, info Info) (Info, error) {
	// Nothing fsynced the unpacked files: one syncfs before the rename, so
	// that a crash cannot leave a committed layer with lost contents.
	if err := syncFS(t.dir); err != nil {
		return Info{}, err
	}
	dst := s.layerPath(info.ChainID)
	s.lock.RLock()
	err := os.Rename(t.dir, dst)
	s.lock.RUnlock()
	if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		return s.Get(ctx, info.ChainID) // another writer won; ours goes with t
	}
	if err != nil {
		return Info{}, fmt.Errorf("committing layer %s: %w", info.ChainID, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
		return Info{}, err
	}
	return info, nil
}

func (s *Store) writeRecord(dir, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, name), b, 0o644)
}

func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// diskUsage sums the sizes of the regular files under dir, counting each
// hardlinked inode once.
func diskUsage(dir string) (int64, error) {
	seen := make(map[inode]bool)
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		if st.Nlink > 1 {
			key := inode{dev: st.Dev, ino: st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		total += st.Size
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return total, nil
}

func orUnknown(d digest.Digest) string {
	if d == "" {
		return "(diffID not given)"
	}
	return d.String()
}
