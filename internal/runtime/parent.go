package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// Create sets up container id from the bundle at bundleDir (config.json
// and the rootfs it names) and leaves its init waiting for Start: the
// namespaces, cgroup, mounts, devices, root, user and capabilities are in
// place and the workload's executable was found. An error leaves nothing
// behind: no process, no cgroup, no state.
//
// The init is a child of the calling process. A caller that stays, like
// the monitor, collects the exit status with Wait; a CLI that exits leaves
// the init to be reaped by its subreaper.
func (r *Runtime) Create(ctx context.Context, id, bundleDir string, opts CreateOpts) (err error) {
	if err := checkID(id); err != nil {
		return err
	}
	if opts.Exe != nil {
		if err := checkSealed(opts.Exe); err != nil {
			return err
		}
	}
	bundle, spec, mgr, err := prepare(id, bundleDir)
	if err != nil {
		return err
	}
	if err := checkConsole(spec, opts); err != nil {
		return err
	}
	r.sweepTemp()
	c, err := r.claim(id, record{
		State:      specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating, Bundle: bundle, Annotations: spec.Annotations},
		Created:    time.Now().UTC(),
		CgroupPath: mgr.Path(),
	})
	if err != nil {
		return err
	}
	defer c.unlock()
	defer func() {
		if err != nil {
			err = fmt.Errorf("creating container %q: %w", id, err)
			r.abort(ctx, c, mgr)
		}
	}()
	p, err := r.startInit(c, spec, opts)
	if err != nil {
		return err
	}
	defer p.sync.Close()
	if err := r.setupInit(ctx, c, p, mgr, spec); err != nil {
		return err
	}
	if opts.PidFile != "" {
		if err := atomicfile.WriteFile(opts.PidFile, []byte(strconv.Itoa(c.rec.Pid)), 0o644); err != nil {
			return fmt.Errorf("writing pid file: %w", err)
		}
	}
	return nil
}

// prepare reads and checks what Create needs before it claims the id.
func prepare(id, bundleDir string) (string, *specs.Spec, cgroups.Manager, error) {
	bundle, err := filepath.Abs(bundleDir)
	if err != nil {
		return "", nil, nil, fmt.Errorf("bundle %s: %w", bundleDir, err)
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return "", nil, nil, err
	}
	cgPath, err := cgroupPath(spec, id)
	if err != nil {
		return "", nil, nil, err
	}
	mgr, err := cgroups.New(cgPath)
	return bundle, spec, mgr, err
}

// setupInit puts the started init in its cgroup, hands it the config and
// waits until it reports the container created.
func (r *Runtime) setupInit(ctx context.Context, c *container, p *initProcess, mgr cgroups.Manager, spec *specs.Spec) error {
	c.rec.Pid = p.pid
	c.rec.InitStart, _ = ProcStart(p.pid)
	if err := c.save(); err != nil {
		return err
	}
	if err := mgr.Apply(ctx, p.pid); err != nil {
		return err
	}
	if spec.Linux != nil {
		if err := mgr.Set(ctx, cgroups.WithDefaultDeviceRules(spec.Linux.Resources)); err != nil {
			return err
		}
	}
	cfg := &initConfig{
		ID: c.rec.ID, Spec: spec, Rootfs: rootfsPath(c.rec.Bundle, spec), Bundle: c.rec.Bundle,
		PreservedFDs: p.preserved, CgroupMounts: mgr.Mounts(), HostPid: p.pid,
	}
	stop := context.AfterFunc(ctx, func() { p.sync.SetDeadline(time.Now()) })
	defer stop()
	if err := writeMessage(p.sync, message{Type: msgConfig, Config: cfg}); err != nil {
		return err
	}
	msg, err := readAnswer(ctx, p.sync, c, spec)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, io.EOF):
		return fmt.Errorf("init exited during setup (%s)", p.exitStatus())
	case err != nil:
		return err
	case msg.Type == msgError && msg.Error != nil:
		return msg.Error.err()
	case msg.Type != msgCreated:
		return fmt.Errorf("unexpected %q message from init", msg.Type)
	}
	c.rec.Status = specs.StateCreated
	if err := saveHooks(c, spec); err != nil {
		return err
	}
	return c.save()
}

// abort undoes a failed Create, even when ctx was cancelled (but not for
// longer than a minute: a process stuck in the kernel must not hang it).
func (r *Runtime) abort(ctx context.Context, c *container, mgr cgroups.Manager) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if c.rec.Pid > 0 {
		signalInit(&c.rec, unix.SIGKILL)
	}
	mgr.Destroy(ctx)
	r.remove(c)
	r.mu.Lock()
	delete(r.children, c.rec.ID)
	r.mu.Unlock()
}

func loadSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.NotFound("bundle %s: no config.json", bundle)
	}
	if err != nil {
		return nil, fmt.Errorf("reading config of bundle %s: %w", bundle, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, errdefs.Invalid("config.json of bundle %s: %w", bundle, err)
	}
	if err := validateSpec(&spec); err != nil {
		return nil, fmt.Errorf("config.json of bundle %s: %w", bundle, err)
	}
	return &spec, nil
}

// validateSpec rejects what this runtime cannot do before anything starts.
func validateSpec(spec *specs.Spec) error {
	switch {
	case spec.Root == nil || spec.Root.Path == "":
		return errdefs.Invalid("no root path")
	case spec.Process == nil || len(spec.Process.Args) == 0:
		return errdefs.Invalid("no process args")
	case spec.Process.Cwd != "" && !filepath.IsAbs(spec.Process.Cwd):
		return errdefs.Invalid("process.cwd %q is not absolute", spec.Process.Cwd)
	case spec.Linux == nil:
		return errdefs.Invalid("no linux section")
	}
	if _, err := planNamespaces(spec.Linux.Namespaces); err != nil {
		return err
	}
	if _, err := capMasks(spec.Process.Capabilities); err != nil {
		return err
	}
	return nil
}

func rootfsPath(bundle string, spec *specs.Spec) string {
	if filepath.IsAbs(spec.Root.Path) {
		return spec.Root.Path
	}
	return filepath.Join(bundle, spec.Root.Path)
}

// initProcess is the parent's handle on a started init.
type initProcess struct {
	pid       int
	sync      *os.File // the parent's end of the socketpair
	preserved int
	child     *child
}

// exitStatus describes how the init ended, for an error message.
func (p *initProcess) exitStatus() string {
	select {
	case <-p.child.done:
		return "exit status " + strconv.Itoa(p.child.status)
	case <-time.After(time.Second):
		return "still running"
	}
}
