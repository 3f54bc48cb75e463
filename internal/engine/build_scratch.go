package engine

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/build"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/mount"
	"github.com/strata-containers/strata/internal/runtime"
	"github.com/strata-containers/strata/internal/spec"
)

// scratchPrefix names the writable layers of build steps in the layer
// store; <runroot>/build/<id>/ holds the step's bundle and <id>.lock,
// held while the step lives, tells a live build from a dead one's leftovers.
const scratchPrefix = "build-"

// buildBackend is the engine as package build sees it.
type buildBackend struct {
	e   *Engine
	net *buildNet // the build's endpoint on the default bridge
}

func (b *buildBackend) Image(ctx context.Context, ref string, pull bool) (build.Image, error) {
	e := b.e
	img, err := e.images.Resolve(ctx, ref)
	if pull || errdefs.IsNotFound(err) {
		if _, perr := e.ImagePull(ctx, ref, PullOptions{}); perr != nil {
			if err != nil {
				return build.Image{}, fmt.Errorf("%w (pulling it: %w)", err, perr)
			}
			return build.Image{}, perr
		}
		img, err = e.images.Resolve(ctx, ref)
	}
	if err != nil {
		return build.Image{}, err
	}
	d, err := e.readImage(ctx, img)
	if err != nil {
		return build.Image{}, err
	}
	out := build.Image{ID: d.ID, Config: d.config}
	if n := len(d.chainIDs); n > 0 {
		out.Chain = d.chainIDs[n-1]
	}
	return out, nil
}

func (b *buildBackend) LayerExists(ctx context.Context, chain digest.Digest) bool {
	_, err := b.e.layers.Get(ctx, chain)
	return err == nil
}

// scratch is a build step's writable layer, mounted at <bundle>/rootfs.
type scratch struct {
	e       *Engine
	net     *buildNet
	id      string
	parent  digest.Digest
	bundle  string
	lock    *lockfile.Locker
	mounted bool
	done    bool
	// placeholders are mount points the runtime created in the rootfs
	// (host network files, --mount targets); they are not the step's output.
	placeholders []string
}

// hostNetworkFiles gives a RUN on the host's network the host's resolver
// and hosts files, read-only, as Docker's builder does.
func (s *scratch) hostNetworkFiles(sp *specs.Spec) {
	for _, f := range []string{"/etc/resolv.conf", "/etc/hosts"} {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if _, err := os.Lstat(filepath.Join(s.Rootfs(), f)); errors.Is(err, os.ErrNotExist) {
			s.placeholders = append(s.placeholders, f)
		}
		sp.Mounts = append(sp.Mounts, specs.Mount{Destination: f, Type: "bind", Source: f, Options: []string{"rbind", "ro"}})
	}
}

// runMounts adds a RUN's --mount mounts to its spec.
func (s *scratch) runMounts(sp *specs.Spec, mounts []build.RunMount) {
	for _, m := range mounts {
		if _, err := os.Lstat(filepath.Join(s.Rootfs(), m.Target)); errors.Is(err, os.ErrNotExist) {
			s.placeholders = append(s.placeholders, m.Target)
		}
		sm := specs.Mount{Destination: m.Target, Type: "bind", Source: m.Source, Options: []string{"rbind"}}
		if m.Type == "tmpfs" {
			sm = specs.Mount{Destination: m.Target, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}}
		}
		if m.ReadOnly {
			sm.Options = append(sm.Options, "ro")
		}
		sp.Mounts = append(sp.Mounts, sm)
	}
}

// dropPlaceholders removes the mount points hostNetworkFiles made, when
// they are still the empty files the runtime created.
func (s *scratch) dropPlaceholders() {
	for _, f := range s.placeholders {
		p := filepath.Join(s.e.layers.RWDir(s.id), f)
		fi, err := os.Lstat(p)
		if err == nil && (fi.IsDir() || fi.Mode().IsRegular() && fi.Size() == 0) {
			os.Remove(p) // a directory only if empty
		}
	}
}

func (b *buildBackend) Scratch(ctx context.Context, parent digest.Digest) (build.Scratch, error) {
	e := b.e
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	s := &scratch{e: e, net: b.net, id: scratchPrefix + hex.EncodeToString(rnd[:]), parent: parent}
	s.bundle = filepath.Join(e.cfg.RunRoot, "build", s.id)
	lk, err := lockfile.New(s.bundle + ".lock")
	if err != nil {
		return nil, err
	}
	lk.Lock()
	s.lock = lk
	mounts, err := e.layers.CreateRW(ctx, s.id, parent)
	if err != nil {
		s.Release(ctx)
		return nil, fmt.Errorf("build step: %w", err)
	}
	if err := os.MkdirAll(s.Rootfs(), 0o700); err != nil {
		s.Release(ctx)
		return nil, err
	}
	// The layer is read once the step ends and thrown away after: nothing
	// needs to reach the disk, and a volatile unmount does not sync it.
	if err := mount.All(volatile(mounts), s.Rootfs()); err != nil {
		s.Release(ctx)
		return nil, fmt.Errorf("build step: mounting rootfs: %w", err)
	}
	s.mounted = true
	return s, nil
}

func (s *scratch) Rootfs() string { return filepath.Join(s.bundle, "rootfs") }

// Run runs the step's command in a container of strata's own runtime, as
// a child of this process, with the output piped to spec.Output.
func (s *scratch) Run(ctx context.Context, rs build.RunSpec) (int, error) {
	user, err := spec.ResolveUser(s.Rootfs(), rs.User)
	if err != nil {
		return -1, err
	}
	var img dockerspec.DockerOCIImage
	sp, err := spec.Generate(s.id,
		spec.WithHostname(s.id[len(scratchPrefix):len(scratchPrefix)+12]),
		spec.WithImage(img, spec.Process{Entrypoint: rs.Args, EntrypointSet: true, Env: rs.Env, WorkingDir: rs.WorkingDir}),
		spec.WithNetwork(buildNetworkMode(rs.Network)),
		spec.WithUser(user),
	)
	if err != nil {
		return -1, err
	}
	if err := s.stepNetwork(ctx, buildNetworkMode(rs.Network), sp); err != nil {
		return -1, fmt.Errorf("build step network: %w", err)
	}
	s.runMounts(sp, rs.Mounts)
	if err := writeSpec(filepath.Join(s.bundle, "config.json"), sp); err != nil {
		return -1, err
	}
	rt, err := runtime.New(s.e.runtimeRoot())
	if err != nil {
		return -1, err
	}
	return runStep(ctx, rt, s.id, s.bundle, rs)
}

func runStep(ctx context.Context, rt *runtime.Runtime, id, bundle string, rs build.RunSpec) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	defer r.Close()
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		_, _ = io.Copy(orDiscard(rs.Output), r)
	}()
	err = rt.Create(ctx, id, bundle, runtime.CreateOpts{Stdout: w, Stderr: w, Exe: sealedExe()})
	w.Close()
	if err != nil {
		copied.Wait()
		return -1, err
	}
	if rs.Started != nil {
		rs.Started(id)
	}
	code := -1
	if err = rt.Start(ctx, id); err == nil {
		code, err = rt.Wait(ctx, id)
	}
	// Deleting kills whatever still runs (a failed start, a cancelled
	// build), which closes the pipe; only then can its copy end.
	derr := rt.Delete(context.WithoutCancel(ctx), id, true)
	copied.Wait()
	if err == nil && derr != nil {
		err = fmt.Errorf("removing build container %s: %w", id, derr)
	}
	return code, err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Commit unmounts the rootfs and registers its changes as a layer over
// the parent, through commit's path (commitLayer); a step that changed
// nothing adds no layer.
func (s *scratch) Commit(ctx context.Context, clamp *time.Time) (build.Layer, error) {
	if err := s.unmount(); err != nil {
		return build.Layer{}, err
	}
	s.dropPlaceholders()
	cl, err := s.e.commitLayer(ctx, s.id, s.parent, commitOptions{Clamp: clamp, SkipEmpty: true})
	if err != nil {
		return build.Layer{}, fmt.Errorf("committing build step: %w", err)
	}
	return build.Layer{Chain: cl.ChainID, DiffID: cl.DiffID, Empty: cl.Empty}, nil
}

// CommitTar registers the layer tar write makes over the parent, through
// the path of Commit (registerTar): write is called again only if the
// layer store cannot rebuild the tar. The rootfs stays mounted: write may
// be reading it.
func (s *scratch) CommitTar(ctx context.Context, write func(io.Writer) error, clamp *time.Time) (build.Layer, error) {
	stream := func() io.ReadCloser {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeBuffered(pw, write)) }()
		if clamp == nil {
			return pr
		}
		return clampedReader{clampTimes(pr, *clamp), pr}
	}
	cl, err := s.e.registerTar(ctx, s.parent, stream, false)
	if err != nil {
		return build.Layer{}, err
	}
	return build.Layer{Chain: cl.ChainID, DiffID: cl.DiffID}, nil
}

// writeBuffered runs write through a large buffer: an io.Pipe hands each
// Write to the reader in lockstep, and a tar of small files is three
// writes a file (header, content, padding), each a goroutine switch.
func writeBuffered(w io.Writer, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func (s *scratch) unmount() error {
	if !s.mounted {
		return nil
	}
	if err := mount.UnmountAll(s.Rootfs()); err != nil {
		return fmt.Errorf("unmounting build step: %w", err)
	}
	s.mounted = false
	return nil
}

// Release removes everything the step made; it is idempotent.
func (s *scratch) Release(ctx context.Context) error {
	if s.done {
		return nil
	}
	err := s.unmount()
	if rerr := s.e.layers.RemoveRW(ctx, s.id); rerr != nil && !errdefs.IsNotFound(rerr) {
		err = errors.Join(err, rerr)
	}
	if err == nil {
		os.RemoveAll(s.bundle)
		s.done = true
		os.Remove(s.lock.Path())
		s.lock.Unlock()
		s.lock.Close()
	}
	return err
}

// sweepScratches removes the step layers of builds that died (their lock
// is free): their container, mount, writable layer and bundle.
func (e *Engine) sweepScratches(ctx context.Context) {
	rws, err := e.layers.ListRW(ctx)
	if err != nil {
		return
	}
	rt, _ := runtime.New(e.runtimeRoot())
	for _, rw := range rws {
		if !strings.HasPrefix(rw.ID, scratchPrefix) {
			continue
		}
		bundle := filepath.Join(e.cfg.RunRoot, "build", rw.ID)
		lk, err := lockfile.New(bundle + ".lock")
		if err != nil || !lk.TryLock() {
			if lk != nil {
				lk.Close()
			}
			continue
		}
		if rt != nil {
			_ = rt.Delete(ctx, rw.ID, true)
		}
		_ = unix.Unmount(filepath.Join(bundle, "rootfs"), unix.MNT_DETACH)
		if e.layers.RemoveRW(ctx, rw.ID) == nil {
			os.RemoveAll(bundle)
			os.Remove(lk.Path())
		}
		lk.Unlock()
		lk.Close()
	}
}
