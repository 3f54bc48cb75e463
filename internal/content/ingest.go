package content

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/lockfile"
)

// Lock files end in lockSuffix. A writer creates its lock under
// newPrefix, locks it, and only then renames it to <random>.lock, so a
// sweeper never finds a writer's lock file before the writer holds it.
const (
	lockSuffix = ".lock"
	newPrefix  = ".new-"
)

// ingest is the on-disk side of a Writer: ingest/<random>, and
// ingest/<random>.lock held for as long as the writer lives.
type ingest struct {
	path     string // the data file
	lockPath string
	f        *os.File
	lock     *lockfile.Locker
}

// newIngest creates a locked ingest. The lock file is in place and held
// before the data file is created, so a sweeper never sees data that has no
// lock.
func (s *Store) newIngest() (*ingest, error) {
	for {
		id := rand.Text()
		in := &ingest{
			path:     filepath.Join(s.ingestDir(), id),
			lockPath: filepath.Join(s.ingestDir(), id+lockSuffix),
		}
		tmp := filepath.Join(s.ingestDir(), newPrefix+id+lockSuffix)
		lock, err := lockfile.New(tmp)
		if err != nil {
			return nil, fmt.Errorf("creating ingest in %s: %w", s.root, err)
		}
		lock.Lock()
		if err := os.Rename(tmp, in.lockPath); err != nil {
			lock.Unlock()
			lock.Close()
			if errors.Is(err, fs.ErrNotExist) {
				// A sweeper took the fresh lock between its creation and our
				// Lock, and removed it: start again under a new name.
				continue
			}
			return nil, fmt.Errorf("creating ingest in %s: %w", s.root, err)
		}
		if !lock.Names(in.lockPath) {
			// Sweepers removed our file and one's open recreated the name,
			// which we renamed: not ours to hold. Its sweeper removes it.
			lock.Unlock()
			lock.Close()
			continue
		}
		in.lock = lock
		f, err := os.OpenFile(in.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o444)
		if err != nil {
			in.path = ""
			in.release()
			return nil, fmt.Errorf("creating ingest file: %w", err)
		}
		in.f = f
		return in, nil
	}
}

// discard removes the data file, then releases the lock.
func (in *ingest) discard() {
	if in.f != nil {
		in.f.Close()
		in.f = nil
	}
	if in.path != "" {
		os.Remove(in.path)
	}
	in.release()
}

// release removes the lock file while still holding it, then unlocks, so
// that no one can take a lock on a path that is about to disappear unseen.
func (in *ingest) release() {
	os.Remove(in.lockPath)
	in.lock.Unlock()
	in.lock.Close()
}

// sweepIngests removes the ingests of dead writers: those whose lock can be
// taken (under its final name or its newPrefix one), and data files left
// without a lock file.
func (s *Store) sweepIngests() error {
	entries, err := os.ReadDir(s.ingestDir())
	if err != nil {
		return fmt.Errorf("listing ingests in %s: %w", s.root, err)
	}
	for _, e := range entries {
		name := filepath.Join(s.ingestDir(), e.Name())
		if base, ok := strings.CutSuffix(name, lockSuffix); ok {
			if err := sweepIngest(base); err != nil {
				return err
			}
			continue
		}
		// Data whose lock file is gone belongs to no live writer: a writer
		// removes its data before its lock file.
		if _, err := os.Lstat(name + lockSuffix); errors.Is(err, fs.ErrNotExist) {
			if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("removing abandoned ingest: %w", err)
			}
		}
	}
	return nil
}

// sweepIngest removes the ingest at path if its writer is dead. Opening the
// lock may recreate a lock file that its writer just removed or renamed;
// the sweeper then holds that new file's lock and removes it again, and no
// writer ever uses such a recreated file.
func sweepIngest(path string) error {
	lock, err := lockfile.New(path + lockSuffix)
	if err != nil {
		return fmt.Errorf("opening ingest lock: %w", err)
	}
	defer lock.Close()
	if !lock.TryLock() {
		return nil // its writer is alive
	}
	defer lock.Unlock()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing abandoned ingest: %w", err)
	}
	if err := os.Remove(lock.Path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing abandoned ingest lock: %w", err)
	}
	return nil
}
