package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/build"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/reference"
)

// BuildOptions are the options of `build`.
type BuildOptions struct {
	// Context is a directory, a tar file, or "-": Stdin holds a tar or a
	// lone Dockerfile.
	Context string
	// Dockerfile is -f: a path, "-" (read from Stdin), or "" for the
	// context's Dockerfile. A relative path is the working directory's
	// for a directory context and the archive's for a tar context.
	Dockerfile      string
	Stdin           io.Reader
	Tags            []string
	BuildArgs       map[string]string
	Target          string
	NoCache         bool
	Pull            bool
	Labels          map[string]string
	Network         string
	Out             io.Writer // progress and RUN output; nil: none
	SourceDateEpoch *time.Time
}

// BuildResult is a built image.
type BuildResult struct {
	ID   digest.Digest
	Tags []string // familiar names
}

// ImageBuild builds an image from a Dockerfile (package build) and tags it.
func (e *Engine) ImageBuild(ctx context.Context, opts BuildOptions) (BuildResult, error) {
	names, err := parseTags(opts.Tags)
	if err != nil {
		return BuildResult{}, err
	}
	switch opts.Network {
	case "", "default", "none", "host", "bridge":
	default:
		return BuildResult{}, errdefs.Invalid("network mode %q not supported by build (bridge, host, none)", opts.Network)
	}
	opts.Network = buildNetworkMode(opts.Network)
	release, err := e.enterBuild(ctx)
	if err != nil {
		return BuildResult{}, err
	}
	defer release()
	bctx, err := e.buildContext(ctx, opts)
	if err != nil {
		return BuildResult{}, err
	}
	defer bctx.cleanup()
	defer e.shared()()
	be := &buildBackend{e: e, net: &buildNet{}}
	defer be.net.release(context.WithoutCancel(ctx), e)
	res, err := build.Build(ctx, be, build.Options{
		Dockerfile: bctx.dockerfile, ContextDir: bctx.dir, BuildArgs: opts.BuildArgs, Target: opts.Target,
		NoCache: opts.NoCache, Pull: opts.Pull, Labels: opts.Labels, Network: opts.Network, Out: opts.Out,
		SourceDateEpoch: opts.SourceDateEpoch, CacheDir: e.buildCacheDir(), TempDir: e.buildRunDir(),
	})
	if err != nil {
		return BuildResult{}, err
	}
	id, err := e.storeBuilt(ctx, res, names)
	if err != nil {
		return BuildResult{}, err
	}
	out := BuildResult{ID: id}
	for _, n := range names {
		out.Tags = append(out.Tags, reference.Familiar(n))
	}
	return out, nil
}

// storeBuilt stores the built image and names it; a base image built as
// it is only gets the names.
func (e *Engine) storeBuilt(ctx context.Context, res build.Result, names []reference.Named) (digest.Digest, error) {
	if res.BaseID == "" {
		return e.storeImage(ctx, res.Config, nil, names)
	}
	for _, n := range names {
		if err := e.images.Tag(ctx, n, res.BaseID); err != nil {
			return "", fmt.Errorf("tagging image %s as %s: %w", res.BaseID, reference.Familiar(n), err)
		}
	}
	return res.BaseID, nil
}

func parseTags(tags []string) ([]reference.Named, error) {
	var names []reference.Named
	for _, t := range tags {
		n, err := reference.Parse(t)
		if err != nil {
			return nil, errdefs.Invalid("invalid argument %q for \"-t, --tag\" flag: %w", t, err)
		}
		names = append(names, n)
	}
	return names, nil
}

func (e *Engine) buildCacheDir() string { return filepath.Join(e.cfg.Root, "build", "cache") }

// buildRunDir holds what builds make while they run: step bundles
// (<id>/, <id>.lock), unpacked contexts (context-*) and downloads (add-*).
func (e *Engine) buildRunDir() string { return filepath.Join(e.cfg.RunRoot, "build") }

// enterBuild holds <runroot>/build/builds.lock shared for a build's
// duration. Whoever finds it free first sweeps what dead builds left: the
// temporary directories (only when no build runs), the step scratches and
// the builds' network endpoints (each by its own lock).
func (e *Engine) enterBuild(ctx context.Context) (func(), error) {
	lk, err := lockfile.New(filepath.Join(e.buildRunDir(), "builds.lock"))
	if err != nil {
		return nil, err
	}
	if lk.TryLock() {
		for _, pattern := range []string{"context-*", "add-*"} {
			dirs, _ := filepath.Glob(filepath.Join(e.buildRunDir(), pattern))
			for _, d := range dirs {
				os.RemoveAll(d)
			}
		}
		lk.Unlock()
	}
	lk.RLock()
	e.sweepScratches(ctx)
	e.sweepBuildNets(ctx)
	return func() { lk.RUnlock(); lk.Close() }, nil
}

// buildCtx is a build's context on disk and its Dockerfile.
type buildCtx struct {
	dir        string // "" when the Dockerfile came alone
	dockerfile []byte
	tmp        string // an unpacked tar context, removed by cleanup
}

func (b *buildCtx) cleanup() {
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// buildContext finds the context (unpacking a tar one) and reads the
// Dockerfile.
func (e *Engine) buildContext(ctx context.Context, opts BuildOptions) (*buildCtx, error) {
	b := &buildCtx{}
	var tarStream io.Reader
	switch fi, err := os.Stat(opts.Context); {
	case opts.Context == "-":
		br := bufio.NewReader(opts.Stdin)
		if !looksLikeArchive(br) {
			if opts.Dockerfile == "-" {
				return nil, errdefs.Invalid("invalid argument: can't use stdin for both build context and dockerfile")
			}
			data, err := io.ReadAll(br)
			if err != nil {
				return nil, fmt.Errorf("reading Dockerfile from stdin: %w", err)
			}
			b.dockerfile = data
			return b, nil
		}
		tarStream = br
	case err != nil:
		return nil, errdefs.NotFound("unable to prepare context: path %q not found", opts.Context)
	case fi.IsDir():
		b.dir = opts.Context
	default:
		f, err := os.Open(opts.Context)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		tarStream = f
	}
	if tarStream != nil {
		if err := e.unpackContext(ctx, b, tarStream); err != nil {
			return nil, err
		}
	}
	df, err := readDockerfile(b, opts)
	if err != nil {
		b.cleanup()
		return nil, err
	}
	b.dockerfile = df
	return b, nil
}

// looksLikeArchive peeks at a stream: a tar (the "ustar" magic) or a
// compressed stream is a context; anything else a Dockerfile.
func looksLikeArchive(br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	if len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")) {
		return true
	}
	for _, magic := range [][]byte{{0x1f, 0x8b}, {0x28, 0xb5, 0x2f, 0xfd}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z'}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return false
}

func (e *Engine) unpackContext(ctx context.Context, b *buildCtx, r io.Reader) error {
	dir, err := os.MkdirTemp(e.buildRunDir(), "context-")
	if err != nil {
		return err
	}
	b.tmp, b.dir = dir, dir
	dr, _, err := archive.Decompress(r)
	if err != nil {
		b.cleanup()
		return errdefs.Invalid("reading build context: %w", err)
	}
	defer dr.Close()
	if _, err := archive.Apply(ctx, dir, dr, archive.ApplyOptions{Whiteouts: archive.WhiteoutDelete}); err != nil {
		b.cleanup()
		return errdefs.Invalid("unpacking build context: %w", err)
	}
	return nil
}

func readDockerfile(b *buildCtx, opts BuildOptions) ([]byte, error) {
	name := opts.Dockerfile
	switch {
	case name == "-":
		return io.ReadAll(opts.Stdin)
	case name == "":
		name = filepath.Join(b.dir, "Dockerfile")
	case b.tmp != "" && !filepath.IsAbs(name):
		name = filepath.Join(b.dir, name)
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.NotFound("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat %s: no such file or directory", name)
	}
	return data, err
}

// BuilderPruneReport is what `builder prune` removed.
type BuilderPruneReport struct {
	Deleted    []string // step keys of the entries removed, docker's "build cache objects"
	MountBytes int64    // of the RUN cache mounts removed
}

// BuilderPrune drops the build cache (with all) or only its entries whose
// layers are gone, then collects the layers no image or entry keeps.
func (e *Engine) BuilderPrune(ctx context.Context, all bool) (BuilderPruneReport, GCReport, error) {
	cache, err := build.OpenCache(e.buildCacheDir())
	if err != nil {
		return BuilderPruneReport{}, GCReport{}, err
	}
	unlock, err := e.exclusive(ctx)
	if err != nil {
		return BuilderPruneReport{}, GCReport{}, err
	}
	defer unlock()
	keep := func(en build.Entry) bool {
		_, err := e.layers.Get(ctx, en.Chain)
		return en.Chain == "" || err == nil
	}
	if all {
		keep = nil
	}
	gone, err := cache.Prune(ctx, keep)
	var rep BuilderPruneReport
	for _, k := range gone {
		rep.Deleted = append(rep.Deleted, k.Encoded()[:25])
	}
	if err != nil {
		return rep, GCReport{}, err
	}
	if all {
		// RUN --mount=type=cache directories go with the cache.
		rep.MountBytes = dirSize(e.buildMountsDir())
		if err := os.RemoveAll(e.buildMountsDir()); err != nil {
			return rep, GCReport{}, err
		}
	}
	gc, err := e.gc(ctx)
	return rep, gc, err
}

// buildCacheLayers lists the chain IDs the build cache refers to: GC roots
// while cached (each entry is an image-like record: its chain keeps its
// layers).
func (e *Engine) buildCacheLayers(ctx context.Context) ([]digest.Digest, error) {
	cache, err := build.OpenCache(e.buildCacheDir())
	if err != nil {
		return nil, err
	}
	entries, err := cache.Entries(ctx)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, en := range entries {
		if en.Chain != "" {
			out = append(out, en.Chain)
		}
	}
	return out, nil
}
