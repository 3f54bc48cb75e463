package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime"
	"github.com/strata-containers/strata/internal/spec"
)

// ContainerExecOptions are the options of ContainerExec (docker exec's).
type ContainerExecOptions struct {
	Cmd []string
	// Env is added to the container's environment, replacing variables
	// of the same name.
	Env []string
	// User is a --user value resolved in the container; "" keeps the
	// container's user.
	User string
	// WorkingDir replaces the container's working directory when set.
	WorkingDir string
	// Privileged gives the process every capability.
	Privileged bool
	// Tty gives the process a terminal, of Height x Width when set; the
	// master is Exec.Console.
	Tty           bool
	Height, Width uint
	// Stdin, Stdout and Stderr are the process's stdio without Tty; nil
	// means /dev/null.
	Stdin, Stdout, Stderr *os.File
}

// Exec is a process started by ContainerExec.
type Exec struct {
	p *runtime.ExecProcess
	// Console is the terminal's master with Tty; Close closes it.
	Console *os.File
}

// Wait waits for the process and returns its exit code (128+n after
// signal n).
func (x *Exec) Wait(ctx context.Context) (int, error) { return x.p.Wait(ctx) }

// Signal sends sig to the process.
func (x *Exec) Signal(sig unix.Signal) error { return x.p.Signal(sig) }

// Resize sets the size of the process's terminal.
func (x *Exec) Resize(height, width uint) error {
	if x.Console == nil {
		return errdefs.Invalid("the exec process has no terminal")
	}
	ws := &unix.Winsize{Row: uint16(height), Col: uint16(width)}
	return unix.IoctlSetWinsize(int(x.Console.Fd()), unix.TIOCSWINSZ, ws)
}

// Close releases the process's handles; it goes on running.
func (x *Exec) Close() error { return x.p.Close() }

// ContainerExec runs a command in a running container, in its namespaces
// and cgroup, with the container's environment, user, working directory,
// capabilities and seccomp filter as opts changes them. It returns once
// the command runs; a command that cannot run is ErrExecNotFound or
// ErrExecDenied.
func (e *Engine) ContainerExec(ctx context.Context, ref string, opts ContainerExecOptions) (*Exec, error) {
	if len(opts.Cmd) == 0 {
		return nil, errdefs.Invalid("no command specified")
	}
	prefetchExe() // the sealed copy is made while the store is read
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !c.Running() {
		return nil, errdefs.Conflict("container %s is not running", c.ID)
	}
	proc, err := e.execProcess(c.ID, opts)
	if err != nil {
		return nil, err
	}
	rt, err := e.runtime()
	if err != nil {
		return nil, err
	}
	p, err := rt.Exec(ctx, c.ID, proc, runtime.ExecOpts{
		Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Exe: sealedExe(),
	})
	if errdefs.IsConflict(err) {
		return nil, errdefs.Conflict("container %s is not running", c.ID)
	}
	if err != nil {
		return nil, err
	}
	return &Exec{p: p, Console: p.Console}, nil
}

// execProcess is the container's process (from its bundle's spec) with
// the command and the changes of opts.
func (e *Engine) execProcess(id string, opts ContainerExecOptions) (*specs.Process, error) {
	data, err := os.ReadFile(filepath.Join(e.bundle(id), "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.Conflict("container %s is not running", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading spec of container %s: %w", id, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil || s.Process == nil {
		return nil, fmt.Errorf("spec of container %s is damaged: %v", id, err)
	}
	proc := *s.Process
	proc.Args = opts.Cmd
	proc.Terminal = opts.Tty
	proc.ConsoleSize = nil
	if opts.Tty && opts.Height > 0 && opts.Width > 0 {
		proc.ConsoleSize = &specs.Box{Height: opts.Height, Width: opts.Width}
	}
	if opts.WorkingDir != "" {
		proc.Cwd = opts.WorkingDir
	}
	env := slices.Clone(proc.Env)
	if opts.User != "" {
		u, err := spec.ResolveUser(filepath.Join(e.bundle(id), "rootfs"), opts.User)
		if err != nil {
			return nil, err
		}
		proc.User = specs.User{UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGids, Umask: proc.User.Umask}
		env = setEnv(env, "HOME="+u.Home)
	}
	if opts.Tty && !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	for _, kv := range opts.Env {
		env = setEnv(env, kv)
	}
	proc.Env = env
	if opts.Privileged {
		all := boundedCapabilities()
		proc.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
	}
	return &proc, nil
}

// setEnv sets kv ("KEY=value") in env, replacing a variable of that name.
func setEnv(env []string, kv string) []string {
	key, _, _ := strings.Cut(kv, "=")
	for i, old := range env {
		if k, _, _ := strings.Cut(old, "="); k == key {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// boundedCapabilities are the capabilities of --privileged that this
// process may give: those of its bounding set, as dockerd keeps to its
// own (a host may withhold some from root, CAP_SYS_RESOURCE say).
func boundedCapabilities() []string {
	var out []string
	for n, name := range spec.AllCapabilities() { // in number order
		if held, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n), 0, 0, 0); err == nil && held == 1 {
			out = append(out, name)
		}
	}
	return out
}
