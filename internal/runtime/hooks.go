package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Hooks run at the points the runtime-spec names, each with the
// container's state as JSON on its stdin, exactly its own args and env,
// and its timeout:
//
//	prestart, createRuntime  Create, in the runtime (the parent), after the
//	                         init built the mounts and before pivot_root; the
//	                         init asks for them with a "hooks" message
//	createContainer          Create, in the init (the container's namespaces),
//	                         right after those, before pivot_root
//	startContainer           Start, in the init after pivot_root, before execve
//	poststart                Start, in the runtime, once the workload runs
//	poststop                 Delete, in the runtime, once the container is gone
//
// A failing hook of the first four fails Create or Start, which leaves no
// container (Create) or a stopped one (Start). poststart and poststop
// failures are warnings (written to Runtime.Warn): the lifecycle goes on.
// Start and Delete may run in other processes than Create and must not
// see a config.json changed since, so Create keeps the later hooks in
// <state>/<id>/hooks.json.

const hooksName = "hooks.json"

// hookOutputMax bounds how much of a failing hook's output goes into the
// error message.
const hookOutputMax = 4 << 10

// runHooks runs hooks in order; the first failure stops them.
func runHooks(ctx context.Context, kind string, hooks []specs.Hook, st specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding state for %s hooks: %w", kind, err)
	}
	for i, h := range hooks {
		if err := runHook(ctx, h, state); err != nil {
			return fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err)
		}
	}
	return nil
}

func runHook(ctx context.Context, h specs.Hook, state []byte) error {
	if !filepath.IsAbs(h.Path) {
		return errdefs.Invalid("hook path is not absolute")
	}
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return errdefs.Invalid("hook timeout %d is not positive", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = args
	cmd.Env = append([]string{}, h.Env...) // not nil: nil would mean ours
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(state)
	cmd.Stdout = &limitedWriter{w: &out, n: hookOutputMax}
	cmd.Stderr = cmd.Stdout
	// A hook that leaves a child holding its stdout must not make Wait
	// hang once the hook itself is done or killed.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	err := cmd.Wait()
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errdefs.Unavailable("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// limitedWriter keeps the first n bytes and drops the rest without
// failing the writer, so a chatty hook is not killed by SIGPIPE.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// hookState is the state given to hooks: that of the record, with status.
func hookState(rec *record, status specs.ContainerState) specs.State {
	st := rec.State
	st.Version = specs.Version
	st.Status = status
	return st
}

// runCreateHooks runs the prestart and createRuntime hooks for the init,
// which waits for the answer before it pivots.
func runCreateHooks(ctx context.Context, c *container, spec *specs.Spec) error {
	if spec.Hooks == nil {
		return nil
	}
	// Prestart is the deprecated form of createRuntime and runs first.
	st := hookState(&c.rec, specs.StateCreated)
	//lint:ignore SA1019 deprecated, but specs (and runtime-tools) still use it
	if err := runHooks(ctx, "prestart", spec.Hooks.Prestart, st); err != nil {
		return err
	}
	return runHooks(ctx, "createRuntime", spec.Hooks.CreateRuntime, st)
}

// needsCreateHooks tells the init whether to stop for the runtime's hooks.
func needsCreateHooks(spec *specs.Spec) bool {
	//lint:ignore SA1019 see runCreateHooks
	return spec.Hooks != nil && len(spec.Hooks.Prestart)+len(spec.Hooks.CreateRuntime) > 0
}

// saveHooks keeps the hooks that run after Create (see above).
func saveHooks(c *container, spec *specs.Spec) error {
	h := spec.Hooks
	if h == nil || len(h.Poststart)+len(h.Poststop) == 0 {
		return nil
	}
	data, err := json.Marshal(specs.Hooks{Poststart: h.Poststart, Poststop: h.Poststop})
	if err != nil {
		return fmt.Errorf("encoding hooks of container %q: %w", c.rec.ID, err)
	}
	return writeRunState(filepath.Join(c.dir, hooksName), data)
}

func loadHooks(dir string) (specs.Hooks, error) {
	var h specs.Hooks
	data, err := os.ReadFile(filepath.Join(dir, hooksName))
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("reading hooks: %w", err)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, errdefs.DataLoss("hooks of %s: %w", dir, err)
	}
	return h, nil
}

// postHooks runs the poststart hooks of c.
func (r *Runtime) postHooks(ctx context.Context, kind string, c *container) {
	hooks, err := loadHooks(c.dir)
	if err != nil {
		fmt.Fprintf(r.warnings(), "strata runtime: warning: container %q: %v\n", c.rec.ID, err)
	}
	r.runPostHooks(ctx, kind, hooks, &c.rec)
}

// runPostHooks runs the poststart or poststop hooks; failures are
// warnings, as the runtime-spec says.
func (r *Runtime) runPostHooks(ctx context.Context, kind string, hooks specs.Hooks, rec *record) {
	list, status := hooks.Poststart, specs.StateRunning
	if kind == "poststop" {
		list, status = hooks.Poststop, specs.StateStopped
	}
	state, err := json.Marshal(hookState(rec, status))
	if err != nil {
		return
	}
	for i, h := range list {
		// A failure does not stop the hooks after it.
		if err := runHook(ctx, h, state); err != nil {
			fmt.Fprintf(r.warnings(), "strata runtime: warning: container %q: %s hook #%d (%s): %v\n", rec.ID, kind, i, h.Path, err)
		}
	}
}

func (r *Runtime) warnings() io.Writer {
	if r.Warn != nil {
		return r.Warn
	}
	return os.Stderr
}

// initHooksBeforePivot runs in the init between the mounts and pivot_root:
// it has the runtime run prestart and createRuntime, then runs
// createContainer itself, in the container's namespaces.
func (s *initState) initHooksBeforePivot() error {
	spec := s.cfg.Spec
	if spec.Hooks == nil {
		return nil
	}
	// Hooks must not inherit the sync and start sockets.
	if err := markCloexec(s.base); err != nil {
		return fmt.Errorf("marking fds close-on-exec: %w", err)
	}
	if needsCreateHooks(spec) {
		if err := writeMessage(s.sync, message{Type: msgHooks}); err != nil {
			return err
		}
		msg, err := readMessage(s.dec)
		switch {
		case err != nil:
			return err
		case msg.Type == msgError && msg.Error != nil:
			return msg.Error.err()
		case msg.Type != msgHooksDone:
			return fmt.Errorf("unexpected %q message from runtime", msg.Type)
		}
	}
	return runHooks(context.Background(), "createContainer", spec.Hooks.CreateContainer, s.hookState())
}

// startContainerHooks runs in the init once Start released it.
func (s *initState) startContainerHooks() error {
	if s.cfg.Spec.Hooks == nil {
		return nil
	}
	return runHooks(context.Background(), "startContainer", s.cfg.Spec.Hooks.StartContainer, s.hookState())
}

func (s *initState) hookState() specs.State {
	return specs.State{
		Version: specs.Version, ID: s.cfg.ID, Status: specs.StateCreated, Pid: s.cfg.HostPid,
		Bundle: s.cfg.Bundle, Annotations: s.cfg.Spec.Annotations,
	}
}

// readAnswer reads the init's answer to the config, running the create
// hooks when the init asks for them on the way.
func readAnswer(ctx context.Context, sync *os.File, c *container, spec *specs.Spec) (message, error) {
	dec := newDecoder(sync)
	for {
		msg, err := readMessage(dec)
		if err != nil || msg.Type != msgHooks {
			return msg, err
		}
		if err := runCreateHooks(ctx, c, spec); err != nil {
			return message{}, err
		}
		if err := writeMessage(sync, message{Type: msgHooksDone}); err != nil {
			return message{}, err
		}
	}
}

// keepHooks reads the poststop hooks of c before Delete removes its
// directory, and returns what runs them afterwards.
func (r *Runtime) keepHooks(c *container) func(context.Context) {
	hooks, err := loadHooks(c.dir)
	if err != nil {
		fmt.Fprintf(r.warnings(), "strata runtime: warning: container %q: %v\n", c.rec.ID, err)
	}
	rec := c.rec
	return func(ctx context.Context) { r.runPostHooks(ctx, "poststop", hooks, &rec) }
}
