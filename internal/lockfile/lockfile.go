// Package lockfile provides cross-process reader/writer locks on files.
//
// strata has no daemon: many CLI processes open the same store at once, so
// every store guards its on-disk state with one of these locks. They are
// flock(2) locks on an open file description, which the kernel releases when
// the holder dies, so a kill -9 never leaves a store locked.
//
// A Locker is also safe for concurrent use by goroutines of one process: an
// in-process RWMutex orders them before the flock is taken, because flock
// locks belong to the open file and would not exclude two goroutines sharing it.
package lockfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Locker is a reader/writer lock on one file.
type Locker struct {
	path string
	mu   sync.RWMutex
	fmu  sync.Mutex // guards f, readers and the flock state
	f    *os.File
	// readers counts goroutines of this process holding the shared lock.
	readers int
}

// New returns a Locker for path, creating the file and its directory if needed.
func New(path string) (*Locker, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	return &Locker{path: path, f: f}, nil
}

// CreateLocked makes a new lock file at path and returns its Locker,
// already holding it exclusively. The file is made unnamed (O_TMPFILE),
// locked, and only then linked at path, so no other process can ever find
// it unlocked: a sweeper that opens it while its owner lives cannot take
// it. It fails if path exists, and with an error wrapping
// errors.ErrUnsupported where the filesystem has no O_TMPFILE.
func CreateLocked(path string) (*Locker, error) {
	f, err := os.OpenFile(filepath.Dir(path), unix.O_TMPFILE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
		return nil, fmt.Errorf("creating lock %s: %w", path, errors.ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("creating lock %s: %w", path, err)
	}
	l := &Locker{path: path, f: f}
	l.Lock()
	// Linking through /proc/self/fd needs no privilege, unlike AT_EMPTY_PATH.
	proc := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW); err != nil {
		l.Unlock()
		f.Close()
		return nil, fmt.Errorf("creating lock %s: %w", path, err)
	}
	return l, nil
}

// Path returns the lock file's path.
func (l *Locker) Path() string { return l.path }

// Linked reports whether Path still names the file this Locker locks. A
// lock file removed by another process (and perhaps recreated by a third
// one's New) leaves this Locker holding a lock that nobody else can see;
// protocols that remove lock files check this after locking.
func (l *Locker) Linked() bool { return l.Names(l.path) }

// Names reports whether path names the file this Locker locks (for a
// protocol that renames its lock file after taking it).
func (l *Locker) Names(path string) bool {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	held, err := l.f.Stat()
	if err != nil {
		return false
	}
	named, err := os.Stat(path)
	return err == nil && os.SameFile(held, named)
}

// Lock takes the lock exclusively, waiting for other holders.
func (l *Locker) Lock() {
	l.mu.Lock()
	l.fmu.Lock()
	defer l.fmu.Unlock()
	flock(l.f, unix.LOCK_EX)
}

// Unlock releases an exclusive lock.
func (l *Locker) Unlock() {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	flock(l.f, unix.LOCK_UN)
	l.mu.Unlock()
}

// RLock takes the lock shared, waiting for an exclusive holder.
func (l *Locker) RLock() {
	l.mu.RLock()
	l.fmu.Lock()
	defer l.fmu.Unlock()
	if l.readers == 0 {
		flock(l.f, unix.LOCK_SH)
	}
	l.readers++
}

// RUnlock releases a shared lock.
func (l *Locker) RUnlock() {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	l.readers--
	if l.readers == 0 {
		flock(l.f, unix.LOCK_UN)
	}
	l.mu.RUnlock()
}

// TryLock takes the lock exclusively if no one holds it and reports whether
// it did. Stores use it to find out whether the owner of an "incomplete"
// record is still alive: a live owner holds its lock.
func (l *Locker) TryLock() bool {
	if !l.mu.TryLock() {
		return false
	}
	l.fmu.Lock()
	defer l.fmu.Unlock()
	if err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		l.mu.Unlock()
		return false
	}
	return true
}

// LockContext takes the lock exclusively, giving up when ctx is done.
func (l *Locker) LockContext(ctx context.Context) error {
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		if l.TryLock() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for lock %s: %w", l.path, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// Close releases the file. The Locker must not be held.
func (l *Locker) Close() error { return l.f.Close() }

// flock retries on EINTR; any other error means the descriptor is unusable,
// which is a programming error, so it panics rather than run unlocked.
func flock(f *os.File, how int) {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err == nil {
			return
		}
		if err != unix.EINTR {
			panic(fmt.Sprintf("flock %s: %v", f.Name(), err))
		}
	}
}
