package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/mount"
	"github.com/strata-containers/strata/internal/runtime"
	"github.com/strata-containers/strata/internal/spec"
)

// Errors of a workload that cannot start, for the CLI's exit codes (127
// and 126, as a shell's).
var (
	ErrExecNotFound = runtime.ErrExecNotFound
	ErrExecDenied   = runtime.ErrExecDenied
)

// ParseMemory parses a --memory value, with docker's error wording.
func ParseMemory(v string) (int64, error) { return spec.ParseMemory(v) }

// ParseCPUs parses a --cpus value into nano CPUs.
func ParseCPUs(v string) (int64, error) { return spec.ParseCPUs(v) }

// ParseEnv parses -e values and --env-file contents; a bare KEY takes its
// value from lookup (the CLI's environment).
func ParseEnv(values, files []string, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, errdefs.Invalid("open %s: %w", f, err)
		}
		kv, err := spec.ParseEnvFile(string(data), lookup)
		if err != nil {
			return nil, fmt.Errorf("env file %s: %w", f, err)
		}
		env = append(env, kv...)
	}
	for _, v := range values {
		kv, err := spec.ParseEnv(v, lookup)
		if err != nil {
			return nil, err
		}
		env = append(env, kv...)
	}
	return env, nil
}

// ContainerCreateOptions are the options of create and run.
type ContainerCreateOptions struct {
	Image         string
	Name          string
	Args          []string // replace the image's Cmd
	Entrypoint    []string
	EntrypointSet bool // --entrypoint given ("" clears the image's)
	Env           []string
	WorkingDir    string
	User          string
	Hostname      string
	Labels        map[string]string
	AutoRemove    bool
	Privileged    bool
	ReadOnly      bool
	NetworkMode   string
	CapAdd        []string
	CapDrop       []string
	Memory        int64
	NanoCPUs      int64
	CPUShares     int64
	PidsLimit     int64
	MountOptions               // -v, --mount, --tmpfs, --volumes-from
	Limits        LimitOptions // container_update.go
	// Terminal, stdin and restart policy (container_attach.go).
	Tty, OpenStdin, StdinOnce               bool
	AttachStdin, AttachStdout, AttachStderr bool
	RestartPolicy                           monitor.RestartPolicy
	Network                                 NetworkOptions            // network_container.go
	Devices                                 []container.DeviceMapping // --device
	Userns                                  UsernsOptions             // userns.go
}

func (o ContainerCreateOptions) process() spec.Process {
	return spec.Process{Entrypoint: o.Entrypoint, EntrypointSet: o.EntrypointSet, Args: o.Args, Env: o.Env, WorkingDir: o.WorkingDir}
}

// ContainerCreate creates a container from an image: its record and its
// writable layer. Invalid options fail before anything is written.
func (e *Engine) ContainerCreate(ctx context.Context, opts ContainerCreateOptions) (string, error) {
	prefetchExe() // a container created is usually started next
	if err := checkAttachOptions(opts); err != nil {
		return "", err
	}
	e.sweepContainers(ctx)
	defer e.shared()()
	img, err := e.images.Resolve(ctx, opts.Image)
	if err != nil {
		return "", err
	}
	d, err := e.readImage(ctx, img)
	if err != nil {
		return "", err
	}
	argv, err := spec.Command(d.config.Config, opts.process())
	if err != nil {
		return "", err
	}
	rec := newRecord(opts, d)
	if err := e.applyUserns(&rec, opts.Userns); err != nil {
		return "", err
	}
	if err := e.resolveMounts(ctx, &rec, opts.MountOptions, d.config.Config.Volumes); err != nil {
		return "", err
	}
	if err := e.applyNetworkOptions(ctx, &rec, opts.Network, d.config.Config.ExposedPorts); err != nil {
		return "", err
	}
	rec.Path, rec.Args = argv[0], argv[1:]
	// Generating the spec now checks every option before anything exists.
	if _, err := generateSpec(rec, spec.User{}); err != nil {
		return "", err
	}
	cr, err := e.containers.Create(ctx, rec)
	if err != nil {
		return "", err
	}
	id := cr.Record().ID
	var parent digest.Digest
	if n := len(d.chainIDs); n > 0 {
		parent = d.chainIDs[n-1]
	}
	createRW := e.layers.CreateRW
	if rec.HostConfig.AutoRemove {
		createRW = e.layers.CreateEphemeralRW // see container.Store's durability
	}
	if _, err := createRW(ctx, id, parent); err != nil {
		cr.Abort()
		return "", fmt.Errorf("creating container %s: %w", id, err)
	}
	if err := e.shiftRW(cr.Record()); err != nil {
		_ = e.layers.RemoveRW(ctx, id)
		cr.Abort()
		return "", err
	}
	if err := cr.Commit(); err != nil {
		_ = e.layers.RemoveRW(ctx, id)
		cr.Abort()
		return "", err
	}
	e.createVolumes(ctx, cr.Record())
	return id, nil
}

func newRecord(opts ContainerCreateOptions, d *imageData) container.Record {
	cfg := d.config.Config
	rec := container.Record{
		ID: container.NewID(), Name: opts.Name, Created: time.Now().UTC(),
		Image: string(d.ID), ImageName: opts.Image,
		Config: container.Config{
			User: opts.User, Env: append(append([]string{}, cfg.Env...), opts.Env...),
			Cmd: cfg.Cmd, Entrypoint: cfg.Entrypoint, Image: opts.Image,
			WorkingDir: cfg.WorkingDir, Labels: map[string]string{},
		},
		HostConfig: container.HostConfig{
			AutoRemove: opts.AutoRemove, Privileged: opts.Privileged, ReadonlyRootfs: opts.ReadOnly,
			NetworkMode: opts.NetworkMode, CapAdd: opts.CapAdd, CapDrop: opts.CapDrop,
			Memory: opts.Memory, NanoCPUs: opts.NanoCPUs, CPUShares: opts.CPUShares, PidsLimit: opts.PidsLimit,
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{}}, Devices: opts.Devices,
		},
	}
	if rec.HostConfig.NetworkMode == "" {
		rec.HostConfig.NetworkMode = "bridge"
	}
	for k, v := range cfg.Labels {
		rec.Config.Labels[k] = v
	}
	for k, v := range opts.Labels {
		rec.Config.Labels[k] = v
	}
	// Docker's merge: an entrypoint given on the command line drops the
	// image's Cmd, unless it clears the entrypoint.
	if opts.EntrypointSet {
		rec.Config.Entrypoint = opts.Entrypoint
		if len(opts.Entrypoint) > 0 {
			rec.Config.Cmd = nil
		}
	}
	if len(opts.Args) > 0 {
		rec.Config.Cmd = opts.Args
	}
	if opts.WorkingDir != "" {
		rec.Config.WorkingDir = opts.WorkingDir
	}
	applyLimits(&rec, opts.Limits)
	setAttachOptions(&rec, opts)
	rec.Config.Hostname = opts.Hostname
	if rec.Config.Hostname == "" {
		rec.Config.Hostname = spec.Hostname(rec.ID)
	}
	return rec
}

// generateSpec builds the OCI spec of rec; user is the resolved user. The
// record holds everything of the image that the spec needs (command, env,
// working directory), so a container runs on after `rmi -f` of its image.
func generateSpec(rec container.Record, user spec.User) (*specs.Spec, error) {
	h := rec.HostConfig
	var img dockerspec.DockerOCIImage
	return spec.Generate(rec.ID,
		spec.WithHostname(rec.Config.Hostname),
		// The command was resolved at creation: Path and Args.
		spec.WithImage(img, spec.Process{
			Entrypoint: append([]string{rec.Path}, rec.Args...), EntrypointSet: true,
			Env: rec.Config.Env, WorkingDir: rec.Config.WorkingDir,
		}),
		spec.WithNetwork(specNetworkMode(h.NetworkMode)),
		spec.WithCapabilities(h.CapAdd, h.CapDrop),
		spec.WithPrivileged(h.Privileged),
		spec.WithReadonlyRootfs(h.ReadonlyRootfs),
		spec.WithResources(spec.Resources{Memory: h.Memory, NanoCPUs: h.NanoCPUs, CPUShares: h.CPUShares, PidsLimit: h.PidsLimit}),
		spec.WithUser(user),
		spec.WithMounts(specMounts(rec)),
		withLimits(rec),
		deviceOpt(h),
		withUserns(rec),
	)
}

// bundle is where container id's OCI bundle lives (config.json, rootfs).
func (e *Engine) bundle(id string) string { return filepath.Join(e.cfg.RunRoot, "containers", id) }

func (e *Engine) runtimeRoot() string { return filepath.Join(e.cfg.RunRoot, "runtime") }

// Attached is a started container whose launcher waits for it.
type Attached struct {
	ID         string
	e          *Engine
	h          *monitor.Handle
	autoRemove bool
	// rec is the record as the start found it (its log path, its
	// anonymous volumes), which Wait needs without reloading it.
	rec container.Container
}

// ContainerStart starts a created or exited container through a new
// monitor and returns once its workload runs. With attach, the caller
// must call Stream (or Finish); otherwise the container is on its own. A
// running container is left as it is (docker's "not modified").
func (e *Engine) ContainerStart(ctx context.Context, ref string, attach bool) (*Attached, error) {
	return e.start(ctx, ref, attach, nil)
}

// start is ContainerStart; hook, if set, adjusts the monitor's
// configuration (an attached start's WaitAttach).
func (e *Engine) start(ctx context.Context, ref string, attach bool, hook func(*monitor.Config)) (*Attached, error) {
	prefetchExe()
	defer warmCgroups()()
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c, err = e.containers.Get(ctx, c.ID); err != nil {
		return nil, err
	}
	if c.Running() {
		return &Attached{ID: c.ID, e: e}, nil
	}
	cfg, err := e.prepareBundle(ctx, c)
	if err != nil {
		return nil, err
	}
	cfg.Exe = sealedExe()
	if hook != nil {
		hook(&cfg)
	}
	h, err := monitor.Launch(ctx, exes().monitor, cfg)
	if err != nil {
		_ = mount.UnmountAll(cfg.Rootfs())
		return nil, fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	if !attach {
		h.Detach()
		return &Attached{ID: c.ID, e: e}, nil
	}
	return &Attached{ID: c.ID, e: e, h: h, autoRemove: c.HostConfig.AutoRemove, rec: c}, nil
}

// prepareBundle mounts the rootfs, resolves the user in it, writes the
// OCI spec and returns the monitor's configuration. The user is resolved
// here, not in the monitor, because it needs the image's /etc/passwd and
// the spec package, which the monitor must not import; the monitor takes
// the mount over (and mounts it itself if it finds it missing).
func (e *Engine) prepareBundle(ctx context.Context, c container.Container) (cfg monitor.Config, err error) {
	mounts, err := e.layers.Mounts(ctx, c.ID)
	if err != nil {
		return cfg, err
	}
	if c.HostConfig.AutoRemove {
		mounts = volatile(mounts)
	}
	if mounts, err = idmapRootfs(mounts, c.Record, e.bundle(c.ID)); err != nil {
		return cfg, err
	}
	cfg = monitor.Config{
		ID: c.ID, Bundle: e.bundle(c.ID), Mounts: mounts, RuntimeRoot: e.runtimeRoot(),
		StatePath: e.containers.StatePath(c.ID), LogPath: c.LogPath,
	}
	if c.HostConfig.AutoRemove {
		cfg.Cleanup = []string{exes().self, "--root", e.cfg.Root, "--runroot", e.cfg.RunRoot,
			"--storage-driver", e.layers.Driver(), "rm", "-f", "-v", c.ID}
	}
	cfg.Release = e.networkRelease(c)
	rootfs := cfg.Rootfs()
	if err := os.MkdirAll(rootfs, 0o700); err != nil {
		return cfg, err
	}
	if ok, _ := mount.IsMountPoint(rootfs); !ok {
		if err := mount.All(mounts, rootfs); err != nil {
			return cfg, fmt.Errorf("mounting rootfs of container %s: %w", c.Name, err)
		}
	}
	defer func() {
		if err != nil {
			_ = mount.UnmountAll(rootfs)
		}
	}()
	if err := e.prepareMounts(ctx, c, rootfs); err != nil {
		return cfg, err
	}
	user, err := spec.ResolveUser(rootfs, c.Config.User)
	if err != nil {
		return cfg, err
	}
	s, err := generateSpec(c.Record, user)
	if err != nil {
		return cfg, err
	}
	terminal(&cfg, s, c.Record)
	if err := e.setupContainerNetwork(ctx, c, s); err != nil {
		return cfg, err
	}
	return cfg, writeSpec(filepath.Join(cfg.Bundle, "config.json"), s)
}

// volatile marks the overlay mounts of an --rm container volatile (as
// podman does): its writable layer is thrown away at its end, so
// nothing needs to reach the disk, and the unmount of a non-volatile
// overlay syncs the whole upper filesystem, dirty data of every other
// process included (from 1 ms to hundreds on a busy disk).
func volatile(ms []mount.Mount) []mount.Mount {
	out := make([]mount.Mount, len(ms))
	for i, m := range ms {
		out[i] = m
		if m.Type == "overlay" {
			out[i].Options = append(append([]string{}, m.Options...), "volatile")
		}
	}
	return out
}

func writeSpec(path string, s *specs.Spec) error {
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return monitor.WriteBundleFile(path, data)
}

// Wait waits for the attached container's workload to exit, copying its
// output to stdout and stderr as it comes (from the log), and returns its
// exit code. The container's --rm removal is done when Wait returns.
func (a *Attached) Wait(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	if a.h == nil {
		return 0, errors.New("container was not started attached")
	}
	done := make(chan struct{})
	var code int
	var werr error
	go func() {
		code, werr = a.h.Wait(ctx)
		close(done)
	}()
	err := followLog(ctx, a.rec.LogPath, LogsOptions{Follow: true, Tail: -1}, done, stdout, stderr)
	<-done
	if werr == nil && a.autoRemove && a.e.removeExited(ctx, a.rec) == nil {
		// Removing here, in a process that has the stores open already,
		// spares the monitor's cleanup a whole strata process; should
		// this fail or the launcher die, the monitor's cleanup still runs.
		a.h.Removed()
	}
	ferr := a.h.Finish()
	return code, errors.Join(werr, err, ferr)
}
