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
	"time"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/mount"
)

// A tmp entry is work in progress: tmp/<name> (a directory, absent at first)
// and tmp/<name>.lock, flock-held by the owner for as long as it lives.
//
// The protocol that keeps a sweeper from removing live work:
//   - the owner's lock file appears under its name already locked
//     (lockfile.CreateLocked: made unnamed, locked, then linked), so a
//     sweeper never finds a <name>.lock that its owner does not hold yet (a
//     sweeper that took a fresh lock file before its owner did would remove
//     it, and many concurrent sweepers, one per CLI process, made that
//     common). Without O_TMPFILE the owner locks tmp/.new-<name>.lock and
//     renames it; sweepers leave .new- files alone for a minute (an owner
//     locks and renames its own within microseconds) and the owner checks
//     that the file it locked is still the one named;
//   - a sweeper removes anything only while holding the entry's lock, and
//     removes the lock file last, before it unlocks;
//   - the owner removes or renames tmp/<name> away before it unlocks.
type tmpEntry struct {
	dir      string
	lockPath string
	lock     *lockfile.Locker
}

const (
	lockSuffix = ".lock"
	newPrefix  = ".new-"
	// newGrace is how old a .new- lock file must be before a sweeper
	// may take it for a dead owner's.
	newGrace = time.Minute
)

// newTmp starts a tmp entry in tmpDir. The caller creates (or renames
// something to) entry.dir and calls release when done.
func newTmp(tmpDir string) (*tmpEntry, error) {
	for range 5 {
		name := rand.Text()
		t := &tmpEntry{dir: filepath.Join(tmpDir, name), lockPath: filepath.Join(tmpDir, name+lockSuffix)}
		l, err := lockfile.CreateLocked(t.lockPath)
		if errors.Is(err, errors.ErrUnsupported) {
			l, err = lockRenamed(tmpDir, name, t.lockPath)
		}
		if err != nil {
			return nil, fmt.Errorf("creating a work directory in %s: %w", tmpDir, err)
		}
		if l != nil {
			t.lock = l
			return t, nil
		}
	}
	return nil, fmt.Errorf("creating a work directory in %s: lock files keep vanishing", tmpDir)
}

// lockRenamed is newTmp's way where the filesystem has no O_TMPFILE: the
// lock is made as .new-<name>.lock, locked, then renamed to lockPath. It
// returns nil and no error when a sweeper took the fresh file first.
func lockRenamed(tmpDir, name, lockPath string) (*lockfile.Locker, error) {
	fresh := filepath.Join(tmpDir, newPrefix+name+lockSuffix)
	l, err := lockfile.New(fresh)
	if err != nil {
		return nil, err
	}
	l.Lock()
	// Linked: no sweeper took it for a dead owner's meanwhile.
	if l.Linked() {
		err := os.Rename(fresh, lockPath)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			l.Unlock()
			l.Close()
			return nil, err
		}
	}
	l.Unlock()
	l.Close()
	return nil, nil
}

// release deletes what is left of the entry, then its lock.
func (t *tmpEntry) release() error {
	err := os.RemoveAll(t.dir)
	if rerr := os.Remove(t.lockPath); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
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
		if seen[name] || (strings.HasPrefix(name, newPrefix) && young(e)) {
			continue
		}
		seen[name] = true
		if err := sweepEntry(filepath.Join(tmpDir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// young reports whether a .new- lock file may still be on its way to its
// owner's lock (see newGrace).
func young(e fs.DirEntry) bool {
	info, err := e.Info()
	return err == nil && time.Since(info.ModTime()) < newGrace
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
