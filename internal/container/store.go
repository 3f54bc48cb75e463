// Package container is the container store: one record per container,
// its names, its lock and its state, with the reconciliation that makes a
// container whose monitor died read as exited.
//
// On disk, under the root given to Open (<Root>/containers):
//
//	<id>/config.json     the Record, written atomically
//	<id>/state.json      monitor.State: written by the creator, then by the
//	                     container's monitor while it lives
//	<id>/lock            the container's lock (lockfile): held by the creator
//	                     until the container is complete, and by every
//	                     operation that changes it (start, stop, rm)
//	<id>/incomplete      present until the creation finished
//	<id>/paused          present while the container is paused (paused.go)
//	<id>/<id>-json.log   the json-file log (package logs)
//	names/<name>         the ID owning name; created with link(2), so a name
//	                     is taken once
//	.tmp-<id>            a container being created, before its rename
//	.tmp-deleted-<id>    a container being removed
//
// Invariants: a directory <id> always has a config.json; a name file is
// created only after its container's directory and removed before it, so a
// name never names a container that does not exist (one left by a crash
// between the two steps is taken over); a directory with "incomplete" whose
// lock is free was left by a creator that died, and Sweep removes it.
//
// Durability: a record is fsynced before it is complete, except an --rm
// container's (HostConfig.AutoRemove), which dies with its run: its files
// are written without a single fsync, since a kill -9 leaves the page cache
// (so nothing a synced record would not) and a power loss leaves at worst a
// directory whose config.json is missing, empty or torn, which Sweep
// removes when its lock is free (a live creator holds it), and a writable
// layer without a record, which the engine's sweep removes.
package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/monitor"
)

const (
	recordName     = "config.json"
	stateName      = "state.json"
	lockName       = "lock"
	incompleteName = "incomplete"
	tmpPrefix      = ".tmp-"
	// staleTemp is how old a temporary directory without a lock file must
	// be before a sweeper removes it: its creator may not have made it yet.
	staleTemp = 10 * time.Minute
)

// Store is the container store. It is safe for concurrent use, by
// goroutines and by processes.
type Store struct {
	root string
}

// Open opens (creating if needed) the store at root.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "names"), 0o700); err != nil {
		return nil, fmt.Errorf("opening container store: %w", err)
	}
	return &Store{root: root}, nil
}

func (s *Store) dir(id string) string { return filepath.Join(s.root, id) }

// Dir is the directory of container id.
func (s *Store) Dir(id string) string { return s.dir(id) }

// StatePath is where container id's state lives (its monitor writes it).
func (s *Store) StatePath(id string) string { return filepath.Join(s.dir(id), stateName) }

// LogPath is where container id's json-file log lives.
func (s *Store) LogPath(id string) string { return filepath.Join(s.dir(id), id+"-json.log") }

// Creation is a container being created: incomplete and locked until
// Commit, removed by Abort.
type Creation struct {
	s          *Store
	rec        Record
	lock       *lockfile.Locker
	randomName bool // drawn by Create, drawn again if taken
}

// Create records a new container. It is incomplete (invisible to Get and
// List, swept if this process dies) until Commit. rec.ID is set if empty;
// rec.Name is reserved, or a random name is chosen if empty.
func (s *Store) Create(ctx context.Context, rec Record) (*Creation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rec.ID == "" {
		rec.ID = NewID()
	}
	rec.LogPath = s.LogPath(rec.ID)
	tmp := filepath.Join(s.root, tmpPrefix+rec.ID)
	lock, err := s.lockedTemp(tmp)
	if err != nil {
		return nil, fmt.Errorf("creating container %s: %w", rec.ID, err)
	}
	c := &Creation{s: s, rec: rec, lock: lock, randomName: rec.Name == ""}
	if c.randomName {
		// Drawn before the record is written, so that it is written once
		// unless the name is taken.
		c.rec.Name = randomName()
	}
	if err := c.prepare(tmp); err != nil {
		c.release()
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := c.reserve(); err != nil {
		c.release()
		os.RemoveAll(s.dir(rec.ID))
		return nil, err
	}
	return c, nil
}

// prepare fills the temporary directory and renames it into place. No
// one looks into the directory before the rename, so its files need not
// be replaced atomically one by one: they are synced, then the directory
// once (each fsync costs a journal commit on the critical path of run).
func (c *Creation) prepare(tmp string) error {
	durable := !c.rec.HostConfig.AutoRemove
	if err := os.WriteFile(filepath.Join(tmp, incompleteName), nil, 0o600); err != nil {
		return err
	}
	rec, err := json.MarshalIndent(c.rec, "", "\t")
	if err != nil {
		return err
	}
	st, err := json.Marshal(monitor.State{Status: monitor.StatusCreated})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{recordName: rec, stateName: st} {
		if err := writeNew(filepath.Join(tmp, name), data, durable); err != nil {
			return fmt.Errorf("creating container %s: %w", c.rec.ID, err)
		}
	}
	if durable {
		if err := atomicfile.SyncDir(tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, c.s.dir(c.rec.ID)); err != nil {
		return fmt.Errorf("creating container %s: %w", c.rec.ID, err)
	}
	if !durable {
		return nil
	}
	return atomicfile.SyncDir(c.s.root)
}

// writeNew writes a new file, synced if durable; its directory is synced
// by the caller.
func writeNew(path string, data []byte, durable bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (c *Creation) reserve() error {
	for {
		err := c.s.reserveName(c.rec.Name, c.rec.ID)
		if !c.randomName || !errdefs.IsConflict(err) {
			return err
		}
		// The drawn name is taken: draw again, and record the new one.
		c.rec.Name = randomName()
		if err := writeJSON(filepath.Join(c.s.dir(c.rec.ID), recordName), c.rec); err != nil {
			return err
		}
	}
}

// Record returns the record being created (ID and Name are set).
func (c *Creation) Record() Record { return c.rec }

// Commit makes the container complete and releases its lock.
func (c *Creation) Commit() error {
	defer c.release()
	if err := os.Remove(filepath.Join(c.s.dir(c.rec.ID), incompleteName)); err != nil {
		return fmt.Errorf("completing container %s: %w", c.rec.ID, err)
	}
	if c.rec.HostConfig.AutoRemove {
		return nil
	}
	return atomicfile.SyncDir(c.s.dir(c.rec.ID))
}

// Abort removes the container being created.
func (c *Creation) Abort() {
	defer c.release()
	c.s.releaseName(c.rec.Name, c.rec.ID)
	os.RemoveAll(c.s.dir(c.rec.ID))
}

func (c *Creation) release() {
	c.lock.Unlock()
	c.lock.Close()
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

// Lock takes container id's lock; the returned function releases it.
func (s *Store) Lock(ctx context.Context, id string) (func(), error) {
	l, err := lockfile.New(filepath.Join(s.dir(id), lockName))
	if err != nil {
		return nil, err
	}
	if err := l.LockContext(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return func() { l.Unlock(); l.Close() }, nil
}

// load reads container id; an incomplete one is not found.
func (s *Store) load(id string) (Container, error) {
	var c Container
	data, err := os.ReadFile(filepath.Join(s.dir(id), recordName))
	if errors.Is(err, os.ErrNotExist) {
		return c, errdefs.NotFound("No such container: %s", id)
	}
	if err != nil {
		return c, fmt.Errorf("reading container %s: %w", id, err)
	}
	if _, err := os.Stat(filepath.Join(s.dir(id), incompleteName)); err == nil {
		return c, errdefs.NotFound("No such container: %s", id)
	}
	if err := json.Unmarshal(data, &c.Record); err != nil {
		return c, errdefs.DataLoss("reading container %s: %w", id, err)
	}
	st, err := monitor.ReadState(s.StatePath(id))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	c.State = reconcile(s.withPaused(id, st))
	return c, nil
}

// SetState replaces container id's state.
func (s *Store) SetState(id string, st monitor.State) error {
	return monitor.WriteState(s.StatePath(id), st)
}

// Remove deletes container id's record, name and log. The caller holds
// its lock and has stopped it.
func (s *Store) Remove(ctx context.Context, id string) error {
	c, err := s.load(id)
	if err != nil {
		return err
	}
	s.releaseName(c.Name, id)
	return s.removeDir(id)
}

func (s *Store) removeDir(id string) error {
	del := filepath.Join(s.root, tmpPrefix+"deleted-"+id)
	if err := os.Rename(s.dir(id), del); err != nil {
		return fmt.Errorf("removing container %s: %w", id, err)
	}
	if err := os.RemoveAll(del); err != nil {
		return fmt.Errorf("removing container %s: %w", id, err)
	}
	return nil
}

// Sweep removes what dead creators and removers left: incomplete
// containers whose lock is free, and old temporary directories. It returns
// the IDs of the incomplete containers it removed, whose other resources
// (writable layer, bundle) the caller frees.
func (s *Store) Sweep(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("sweeping containers: %w", err)
	}
	var swept []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			s.sweepTemp(name)
			continue
		}
		if name == "names" {
			continue
		}
		if !e.IsDir() || !s.sweepable(name) {
			continue
		}
		l, err := lockfile.New(filepath.Join(s.dir(name), lockName))
		if err != nil {
			continue
		}
		if l.TryLock() {
			// Looked at again under the lock: a creator that finished
			// between the first look and TryLock left a complete record.
			if s.sweepable(name) {
				var rec Record
				data, _ := os.ReadFile(filepath.Join(s.dir(name), recordName))
				if json.Unmarshal(data, &rec) == nil {
					s.releaseName(rec.Name, name)
				}
				if s.removeDir(name) == nil {
					swept = append(swept, name)
				}
			}
			l.Unlock()
		}
		l.Close()
	}
	if len(swept) > 0 {
		s.SweepNames()
	}
	return swept, nil
}

// sweepable says whether container directory name is one a dead creator may
// have left: marked incomplete, or with a record a power loss tore (an --rm
// container's, written without fsync). Its lock decides.
func (s *Store) sweepable(name string) bool {
	if _, err := os.Stat(filepath.Join(s.dir(name), incompleteName)); err == nil {
		return true
	}
	data, err := os.ReadFile(filepath.Join(s.dir(name), recordName))
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	var rec Record
	return err == nil && json.Unmarshal(data, &rec) != nil
}

// lockedTemp makes the temporary directory tmp of a creation and returns
// its lock, held. A sweeper may take a lock file that exists before its
// creator locks it, and remove the directory: the creator then finds its
// lock unlinked and starts again.
func (s *Store) lockedTemp(tmp string) (*lockfile.Locker, error) {
	for range 5 {
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return nil, err
		}
		lock, err := lockfile.New(filepath.Join(tmp, lockName))
		if err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		lock.Lock()
		if lock.Linked() {
			return lock, nil
		}
		lock.Unlock()
		lock.Close()
	}
	return nil, fmt.Errorf("%s keeps being swept away", tmp)
}

// sweepTemp removes temporary directory name if its owner is dead: its
// lock file exists and is free. One without a lock file may be a
// creator's between its mkdir and its lock, so it waits until stale.
func (s *Store) sweepTemp(name string) {
	p := filepath.Join(s.root, name)
	st, err := os.Stat(p)
	if err != nil {
		return
	}
	if _, err := os.Stat(filepath.Join(p, lockName)); err != nil && time.Since(st.ModTime()) < staleTemp {
		return
	}
	l, err := lockfile.New(filepath.Join(p, lockName))
	if err != nil {
		return
	}
	defer l.Close()
	if l.TryLock() {
		os.RemoveAll(p)
		l.Unlock()
	}
}

// Holds says whether the store has a directory for container id, complete
// or not, being created or being removed. A writable layer named id is
// created only after its container's directory and removed before it, so
// one without a directory was left by a crash.
func (s *Store) Holds(id string) bool {
	for _, name := range []string{id, tmpPrefix + id, tmpPrefix + "deleted-" + id} {
		if _, err := os.Lstat(filepath.Join(s.root, name)); err == nil || !errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}
