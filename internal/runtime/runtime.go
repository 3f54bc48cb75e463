package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

var (
	// ErrExecNotFound: the workload's executable is not in the container
	// (a CLI exits 127, as a shell does). Errors carrying it are also of
	// class errdefs.ErrNotFound.
	ErrExecNotFound = errors.New("executable file not found")
	// ErrExecDenied: the executable exists but cannot be run (exit 126).
	// Errors carrying it are also of class errdefs.ErrInvalid.
	ErrExecDenied = errors.New("executable cannot be run")
)

// Runtime runs containers from OCI bundles; see the package doc for the
// lifecycle and the state directory. Its methods are safe for concurrent
// use, and several processes may use the same state directory at once.
type Runtime struct {
	root string

	mu sync.Mutex
	// children are the inits this process created: it is their parent
	// and the only one that can collect their exit status.
	children map[string]*child

	// Warn receives the warnings of failed poststart and poststop hooks
	// (see hooks.go); nil means os.Stderr.
	Warn io.Writer
}

type child struct {
	pid    int
	done   chan struct{}
	status int // valid once done is closed
}

// CreateOpts are the options of Create.
type CreateOpts struct {
	// Stdin, Stdout and Stderr become fds 0, 1 and 2 of the workload; nil
	// means /dev/null.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles become fds 3, 4, ... of the workload.
	ExtraFiles []*os.File
	// PidFile, if set, receives the init's pid (as the host sees it).
	PidFile string
	// Exe, if set, is a sealed copy of this executable (from SealedExe)
	// to run the init from instead of making one, which lets a caller
	// make it ahead of time, in parallel with other work. Create refuses
	// a file that is not fully sealed and leaves closing it to the caller.
	Exe *os.File
	// ConsoleSocket, required when the spec sets process.terminal, is a
	// connected unix socket the pty master is sent over (console.go); the
	// caller closes it.
	ConsoleSocket *os.File
}

// New returns a Runtime keeping its state under stateDir (an absolute
// path, e.g. /run/strata/runtime), which it creates if needed.
func New(stateDir string) (*Runtime, error) {
	if !filepath.IsAbs(stateDir) {
		return nil, errdefs.Invalid("runtime state directory %q is not absolute", stateDir)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating runtime state directory: %w", err)
	}
	return &Runtime{root: filepath.Clean(stateDir), children: map[string]*child{}}, nil
}

// validID is ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$, written out: that regexp
// compiles to 128 copies of its class, some 1,700 allocations in the init of
// every strata, strata-monitor and container init process.
func validID(id string) bool {
	if id == "" || len(id) > 128 || !alnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

func checkID(id string) error {
	if !validID(id) {
		return errdefs.Invalid("container id %q: want 1-128 letters, digits, '_', '.' or '-', not starting with a punctuation mark", id)
	}
	return nil
}

func (r *Runtime) dir(id string) string { return filepath.Join(r.root, id) }

// State returns the OCI state of container id: "creating", "created"
// (waiting for Start), "running", "paused" (see Pause), or "stopped" once
// its process is gone.
func (r *Runtime) State(ctx context.Context, id string) (specs.State, error) {
	if err := checkID(id); err != nil {
		return specs.State{}, err
	}
	if err := ctx.Err(); err != nil {
		return specs.State{}, err
	}
	// state.json is replaced atomically, so it is read without the lock,
	// which a Start or Delete may hold for a while.
	rec, err := readRecord(r.dir(id), id)
	if err != nil {
		return specs.State{}, err
	}
	st := rec.State
	st.Status = r.status(&rec)
	if st.Status == specs.StateStopped {
		st.Pid = 0
	}
	return st, nil
}

// status derives the status from the record and the live system.
func (r *Runtime) status(rec *record) specs.ContainerState {
	if rec.Status == specs.StateCreating {
		// A live creator holds the lock; a dead one left a record that
		// only Delete can use.
		l, err := lockFor(r.dir(rec.ID))
		if err != nil {
			return specs.StateStopped
		}
		defer l.Close()
		if l.TryLock() {
			l.Unlock()
			return specs.StateStopped
		}
		return specs.StateCreating
	}
	if !rec.initAlive() {
		return specs.StateStopped
	}
	if rec.Status == specs.StateRunning {
		return runningStatus(rec)
	}
	return rec.Status
}

// Start releases the init of a created container, which executes the
// workload. It returns once the execve happened, or with the error that
// made it fail (ErrExecDenied, say).
func (r *Runtime) Start(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	c, err := r.open(ctx, id)
	if err != nil {
		return err
	}
	defer c.unlock()
	if st := r.status(&c.rec); st != specs.StateCreated {
		return errdefs.Conflict("container %q is %s, not created", id, st)
	}
	if err := sendStart(ctx, c.dir); err != nil {
		return fmt.Errorf("starting container %q: %w", id, err)
	}
	c.rec.Status = specs.StateRunning
	if err := c.save(); err != nil {
		return err
	}
	r.postHooks(ctx, "poststart", c)
	return nil
}

// Kill sends sig to the container's init, or with all to every process in
// its cgroup (which also reaches processes left after the init died).
func (r *Runtime) Kill(ctx context.Context, id string, sig unix.Signal, all bool) error {
	if err := checkID(id); err != nil {
		return err
	}
	c, err := r.open(ctx, id)
	if err != nil {
		return err
	}
	defer c.unlock()
	if all {
		mgr, err := cgroups.New(c.rec.CgroupPath)
		if err != nil {
			return err
		}
		if err := mgr.Signal(ctx, sig); err != nil {
			return fmt.Errorf("signalling container %q: %w", id, err)
		}
		return nil
	}
	if st := r.status(&c.rec); st != specs.StateCreated && st != specs.StateRunning && st != StatePaused {
		return errdefs.Conflict("container %q is %s: no process to signal", id, st)
	}
	return signalInit(&c.rec, sig)
}

// signalInit signals the init through a pidfd, checked against the
// recorded start time, so a reused pid is never signalled.
func signalInit(rec *record, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(rec.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return errdefs.Conflict("container %q has stopped", rec.ID)
	}
	if err != nil {
		return fmt.Errorf("opening pidfd of container %q: %w", rec.ID, err)
	}
	defer unix.Close(fd)
	if !rec.initAlive() {
		return errdefs.Conflict("container %q has stopped", rec.ID)
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		return fmt.Errorf("signalling container %q: %w", rec.ID, err)
	}
	return nil
}

// Delete removes a stopped container: its cgroup and its state. With
// force, a container that still runs is killed first.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	if err := checkID(id); err != nil {
		return err
	}
	c, err := r.open(ctx, id)
	if err != nil {
		return err
	}
	defer c.unlock()
	if st := r.status(&c.rec); st != specs.StateStopped {
		if !force {
			return errdefs.Conflict("container %q is %s: stop it first, or force", id, st)
		}
		// The init may not have reached its cgroup yet.
		if err := signalInit(&c.rec, unix.SIGKILL); err != nil && !errdefs.IsConflict(err) {
			return err
		}
	}
	if err := destroyCgroup(ctx, c.rec.CgroupPath); err != nil {
		return fmt.Errorf("deleting container %q: %w", id, err)
	}
	hooks := r.keepHooks(c)
	if err := r.remove(c); err != nil {
		return err
	}
	hooks(ctx)
	r.mu.Lock()
	delete(r.children, id)
	r.mu.Unlock()
	return nil
}

func destroyCgroup(ctx context.Context, cgroupPath string) error {
	mgr, err := cgroups.New(cgroupPath)
	if err != nil {
		return err
	}
	return mgr.Destroy(ctx)
}

// Stats returns the resource usage of container id, read from its cgroup.
func (r *Runtime) Stats(ctx context.Context, id string) (cgroups.Stats, error) {
	if err := checkID(id); err != nil {
		return cgroups.Stats{}, err
	}
	rec, err := readRecord(r.dir(id), id)
	if err != nil {
		return cgroups.Stats{}, err
	}
	mgr, err := cgroups.New(rec.CgroupPath)
	if err != nil {
		return cgroups.Stats{}, err
	}
	st, err := mgr.Stats(ctx)
	if err != nil {
		return st, fmt.Errorf("reading stats of container %q: %w", id, err)
	}
	return st, nil
}

// Wait waits for the workload of container id to exit and returns its exit
// code (128+n for a process killed by signal n). Only the process that
// created the container is its parent and can wait for it.
func (r *Runtime) Wait(ctx context.Context, id string) (int, error) {
	r.mu.Lock()
	ch := r.children[id]
	r.mu.Unlock()
	if ch == nil {
		return -1, errdefs.NotFound("container %q was not created by this process", id)
	}
	select {
	case <-ch.done:
		return ch.status, nil
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// cgroupPath is where the container's cgroup goes: spec.Linux.CgroupsPath,
// with a relative path placed under /strata, or /strata/<id>.
func cgroupPath(spec *specs.Spec, id string) (string, error) {
	p := ""
	if spec.Linux != nil {
		p = spec.Linux.CgroupsPath
	}
	switch {
	case p == "":
		p = "/strata/" + id
	case !path.IsAbs(p):
		p = path.Join("/strata", p)
	}
	return p, cgroups.CheckPath(p)
}
