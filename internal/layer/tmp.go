package layer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/mount"
)

// A tmp entry is work in progress: tmp/<name> (a directory, absent at first)
// and tmp/<name>.lock, flock-held by the owner for as long as it lives.
//
// The protocol that keeps a sweeper from removing live work:
//   - the owner takes the lock before it creates tmp/<name>, and checks after
//     locking that the lock file's path still names the file it locked (a
//     sweeper may have removed it between its creation and the lock, and
//     another sweeper's open may have created a new one there; the owner
//     then starts over);
//   - a sweeper removes anything only while holding the entry's lock, and
//     removes the lock file last, before it unlocks;
//   - the owner removes or renames tmp/<name> away before it unlocks.
type tmpEntry struct {
	dir  string
	lock *lockfile.Locker
}

const lockSuffix = ".lock"

// newTmp starts a tmp entry in tmpDir. The caller creates (or renames
// something to) entry.dir and calls release when done.
func newTmp(tmpDir string) (*tmpEntry, error) {
	for range 5 {
		dir := filepath.Join(tmpDir, rand.Text())
		l, err := lockfile.New(dir + lockSuffix)
		if err != nil {
			return nil, err
		}
		l.Lock()
		if l.Linked() {
			return &tmpEntry{dir: dir, lock: l}, nil
		}
		l.Unlock()
		l.Close()
	}
	return nil, fmt.Errorf("creating a work directory in %s: lock files keep vanishing", tmpDir)
}

// release deletes what is left of the entry, then its lock.
func (t *tmpEntry) release() error {
	err := os.RemoveAll(t.dir)
	if rerr := os.Remove(t.lock.Path()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	t.lock.Unlock()
	t.lock.Close()
	if err != nil {
		return fmt.Errorf("removing %s: %w", t.dir, err)
	}
	return nil
}

// sweepTmp removes the entries of tmpDir whose owner died: a directory or a
// lock file whose lock is free.
func sweepTmp(ctx context.Context, tmpDir string) error {
	entries, err := os.ReadDir(tmpDir)
	if err != nil {
		return fmt.Errorf("sweeping %s: %w", tmpDir, err)
	}
	seen := make(map[string]bool)
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := strings.TrimSuffix(e.Name(), lockSuffix)
		if seen[name] {
			continue
		}
		seen[name] = true
		if err := sweepEntry(filepath.Join(tmpDir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func sweepEntry(dir string) error {
	l, err := lockfile.New(dir + lockSuffix)
	if err != nil {
		return err
	}
	defer l.Close()
	if !l.TryLock() {
		return nil // its owner lives
	}
	defer l.Unlock()
	// A probe that died mounted would make RemoveAll fail on the mount
	// point (and descend into it first).
	if err := mount.UnmountAll(filepath.Join(dir, "merged")); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("sweeping %s: %w", dir, err)
	}
	if err := os.Remove(l.Path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sweeping %s: %w", dir, err)
	}
	return nil
}

// sweep removes the leftovers of dead owners from the store's tmp.
func (s *Store) sweep(ctx context.Context) error {
	return sweepTmp(ctx, filepath.Join(s.root, "tmp"))
}

// moveToTmp moves dir into a new tmp entry: one rename, so dir vanishes
// atomically. The caller deletes it with release, which may wait until locks
// are dropped; a crash before leaves the entry to the next sweep. Unless
// durable, a power loss may undo the move (see RemoveRW).
func (s *Store) moveToTmp(dir string, durable bool) (*tmpEntry, error) {
	t, err := newTmp(filepath.Join(s.root, "tmp"))
	if err != nil {
		return nil, err
	}
	if err := os.Rename(dir, t.dir); err != nil {
		t.release()
		return nil, fmt.Errorf("removing %s: %w", dir, err)
	}
	if !durable {
		return t, nil
	}
	if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
		t.release()
		return nil, err
	}
	return t, nil
}
