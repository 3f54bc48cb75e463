package runtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

const (
	stateName = "state.json"
	lockName  = "lock"
	sockName  = "start.sock"
)

// record is state.json. Status holds what the runtime last did (creating,
// created, running); State derives "stopped" from the process being gone.
type record struct {
	specs.State
	Created time.Time `json:"created"`
	// InitStart is the init's start time in clock ticks after boot
	// (/proc/<pid>/stat field 22): a pid reused by another process has
	// another start time, so it is never mistaken for the container.
	InitStart  uint64 `json:"initStart,omitempty"`
	CgroupPath string `json:"cgroupPath"`
}

// container is one container's directory, locked by this process.
type container struct {
	dir  string
	lock *lockfile.Locker
	rec  record
}

func (c *container) save() error {
	data, err := json.MarshalIndent(&c.rec, "", "\t")
	if err != nil {
		return fmt.Errorf("encoding state of container %q: %w", c.rec.ID, err)
	}
	return writeRunState(filepath.Join(c.dir, stateName), data)
}

// writeRunState replaces path atomically, like atomicfile, but without
// its fsyncs: the state directory is run state (tmpfs, normally) that a
// reboot makes meaningless, as it ends every container, so a record must
// survive a crashed process (the rename does that) but not a crashed
// machine. On a disk the fsyncs cost milliseconds on every Create.
func writeRunState(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), atomicfile.TempPrefix+stateName+"-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func (c *container) unlock() {
	c.lock.Unlock()
	c.lock.Close()
}

func readRecord(dir, id string) (record, error) {
	var rec record
	data, err := os.ReadFile(filepath.Join(dir, stateName))
	if errors.Is(err, os.ErrNotExist) {
		return rec, errdefs.NotFound("container %q: no such container", id)
	}
	if err != nil {
		return rec, fmt.Errorf("reading state of container %q: %w", id, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, errdefs.DataLoss("state of container %q: %w", id, err)
	}
	return rec, nil
}

// open locks container id exclusively and reads its record. A Delete may
// remove the directory (and the lock in it) while this waits, and a
// Create may then make a new one: holding the lock of a directory that is
// no longer at the path proves nothing, so the lock is taken again.
func (r *Runtime) open(ctx context.Context, id string) (*container, error) {
	dir := r.dir(id)
	for {
		before, err := os.Stat(dir)
		if err != nil {
			return nil, errdefs.NotFound("container %q: no such container", id)
		}
		l, err := lockfile.New(filepath.Join(dir, lockName))
		if err != nil {
			return nil, fmt.Errorf("opening lock of container %q: %w", id, err)
		}
		if err := l.LockContext(ctx); err != nil {
			l.Close()
			return nil, err
		}
		if after, err := os.Stat(dir); err == nil && os.SameFile(before, after) {
			c := &container{dir: dir, lock: l}
			if c.rec, err = readRecord(dir, id); err != nil {
				c.unlock()
				if errdefs.IsNotFound(err) {
					// lockfile.New recreates a directory deleted meanwhile;
					// remove what it left (a lock file and nothing else).
					os.Remove(filepath.Join(dir, lockName))
					unix.Rmdir(dir)
				}
				return nil, err
			}
			return c, nil
		}
		l.Unlock()
		l.Close()
	}
}

// claim makes the directory of a new container atomically: it is built
// under a temporary name, locked, and renamed to the id, which fails if
// the id is taken.
func (r *Runtime) claim(id string, rec record) (*container, error) {
	tmp, l, err := r.tempDir(id)
	if err != nil {
		return nil, err
	}
	c := &container{dir: tmp, lock: l, rec: rec}
	if err := c.save(); err != nil {
		c.unlock()
		os.RemoveAll(tmp)
		return nil, err
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, r.dir(id), unix.RENAME_NOREPLACE)
	if err != nil {
		c.unlock()
		os.RemoveAll(tmp)
		if errors.Is(err, unix.EEXIST) {
			return nil, errdefs.Conflict("container %q already exists", id)
		}
		return nil, fmt.Errorf("claiming container %q: %w", id, err)
	}
	c.dir = r.dir(id)
	return c, nil
}

// remove takes the directory away from the id first (a rename, atomic), so
// a crash midway leaves a temporary directory for sweepTemp, never a half
// container.
func (r *Runtime) remove(c *container) error {
	tmp := filepath.Join(r.root, atomicfile.TempPrefix+"deleted-"+c.rec.ID+"-"+randomHex())
	if err := os.Rename(c.dir, tmp); err != nil {
		return fmt.Errorf("removing state of container %q: %w", c.rec.ID, err)
	}
	c.dir = tmp
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("removing state of container %q: %w", c.rec.ID, err)
	}
	return nil
}

// tempDir makes a locked temporary directory for a container being
// claimed. It is built and locked under a staging name that sweepTemp
// ignores, and only then renamed to a temporary name: otherwise a sweeper
// could find it between mkdir and lock, take the free lock for its dead
// owner's, and delete a live container's directory.
func (r *Runtime) tempDir(id string) (string, *lockfile.Locker, error) {
	suffix := id + "-" + randomHex()
	staging := filepath.Join(r.root, stagingPrefix+suffix)
	if err := os.Mkdir(staging, 0o700); err != nil {
		return "", nil, fmt.Errorf("creating state directory for container %q: %w", id, err)
	}
	l, err := lockfile.New(filepath.Join(staging, lockName))
	if err != nil {
		os.RemoveAll(staging)
		return "", nil, err
	}
	l.Lock()
	tmp := filepath.Join(r.root, atomicfile.TempPrefix+suffix)
	if err := os.Rename(staging, tmp); err != nil {
		l.Unlock()
		l.Close()
		os.RemoveAll(staging)
		return "", nil, fmt.Errorf("creating state directory for container %q: %w", id, err)
	}
	return tmp, l, nil
}

// stagingPrefix names directories that are not yet locked. A process killed
// in that instant leaves one behind; sweepTemp removes those once they are
// older than stagingMaxAge, which no live claim ever is.
const (
	stagingPrefix = ".staging-"
	stagingMaxAge = 10 * time.Minute
)

// sweepTemp removes temporary directories whose owner died: a live owner
// holds the lock inside.
func (r *Runtime) sweepTemp() {
	entries, _ := os.ReadDir(r.root)
	for _, e := range entries {
		if !e.IsDir() || !(atomicfile.IsTemp(e.Name()) || strings.HasPrefix(e.Name(), stagingPrefix)) {
			continue
		}
		dir := filepath.Join(r.root, e.Name())
		if strings.HasPrefix(e.Name(), stagingPrefix) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > stagingMaxAge {
				os.RemoveAll(dir)
			}
			continue
		}
		l, err := lockfile.New(filepath.Join(dir, lockName))
		if err != nil {
			continue
		}
		if l.TryLock() {
			os.RemoveAll(dir)
			l.Unlock()
		}
		l.Close()
	}
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ProcStart returns the start time of pid (clock ticks since boot) and
// whether it still runs (a zombie has finished: it only waits for its parent
// to read its status). A pid and its start time name a process for good:
// pids are reused, start times with them are not.
func ProcStart(pid int) (start uint64, alive bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 20 {
		return 0, false
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, false
	}
	state := fields[0][0]
	return start, state != 'Z' && state != 'X'
}

// initAlive reports whether the container's init (or the workload it
// became) still runs.
func (rec *record) initAlive() bool {
	if rec.Pid <= 0 {
		return false
	}
	start, alive := ProcStart(rec.Pid)
	return alive && start == rec.InitStart
}

// lockFor returns the lock of the container directory dir, unlocked.
func lockFor(dir string) (*lockfile.Locker, error) {
	return lockfile.New(filepath.Join(dir, lockName))
}
