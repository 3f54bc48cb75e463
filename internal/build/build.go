// Package build turns a Dockerfile and a context directory into an image
// config and a layer chain, step by step, as Docker's classic builder does:
// one layer per RUN, COPY and ADD, metadata instructions recorded in the
// config and history only (empty_layer). It owns the step executor and the
// build cache; the engine owns storage and containers and is reached through
// the small Backend and Scratch interfaces defined here.
//
// Parsing is the reference grammar's (moby/buildkit's dockerfile parser and
// instructions packages); variable substitution is its shell lexer. Only
// the stages the target needs are built (FROM <stage>, COPY --from, RUN
// --mount from=), each as soon as the stages it needs are done.
//
// The cache: each step has a key, the digest of its parent's key and of what
// the step does after substitution (the instruction, the build args in
// scope, and for COPY/ADD a hash of every file it takes: path, mode, owner,
// content, link target; never mtime). A stage's first key is its base: the
// image ID, "scratch", or the key of the stage it builds on. An entry maps a
// key to the config and the top chain ID the step produced, so a hit costs
// no container and a fully cached rebuild yields the same image ID. Entries
// whose layers are gone are ignored, and dropped by Prune.
//
// On disk, under the cache directory (<root>/build/cache):
//
//	<key-hex>.json   {"config": <image config JSON>, "chain": <chain ID>}
//
// and beside it <root>/build/filehash, a memo of context files' content
// hashes keyed by device, inode, size, mtime and ctime (see hashMemo), so a
// rebuild stats the context instead of reading it (a COPY walks its sources
// once: the layer tar is written from the entries its hash saw). Both are
// written by temp file + rename, so a crash leaves an entry whole or absent;
// an entry is written only after its layer is committed, so it never names
// a layer that was not there (a layer without entry is garbage for GC).
package build

import (
	"context"
	"io"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
)

// Backend is what a build needs from the engine.
type Backend interface {
	// Image returns a local image by reference, pulling it when it is
	// absent (or always, with pull).
	Image(ctx context.Context, ref string, pull bool) (Image, error)
	// Scratch creates a writable layer over the chain parent ("" for an
	// empty rootfs) and mounts it.
	Scratch(ctx context.Context, parent digest.Digest) (Scratch, error)
	// LayerExists reports whether the layer chain is stored.
	LayerExists(ctx context.Context, chain digest.Digest) bool
}

// Image is a base image: its ID, config and top chain ID ("" if no layers).
type Image struct {
	ID     digest.Digest
	Config dockerspec.DockerOCIImage
	Chain  digest.Digest
}

// Scratch is a mounted writable layer that becomes a layer or goes away.
type Scratch interface {
	// Rootfs is where the layer is mounted, read-write.
	Rootfs() string
	// Run runs a command in a container on the rootfs and returns its
	// exit code.
	Run(ctx context.Context, spec RunSpec) (int, error)
	// Commit unmounts the rootfs and stores its changes as a layer over
	// the parent; Layer.Empty when nothing changed. With clamp set, no
	// time in the layer is later than it (SOURCE_DATE_EPOCH).
	Commit(ctx context.Context, clamp *time.Time) (Layer, error)
	// CommitTar stores the layer tar write writes as the step's layer
	// instead of the rootfs' changes (COPY writes its layer directly).
	// write may be called twice, and must then write the same tar.
	CommitTar(ctx context.Context, write func(io.Writer) error, clamp *time.Time) (Layer, error)
	// Release unmounts and removes the writable layer; it may be called
	// after Commit and more than once.
	Release(ctx context.Context) error
}

// RunSpec is the process a RUN step starts.
type RunSpec struct {
	Args       []string
	Env        []string
	WorkingDir string
	User       string
	Network    string // bridge, host or none
	Mounts     []RunMount
	Output     io.Writer
	// Started is called with the container's ID once it exists.
	Started func(id string)
}

// Layer is a committed step layer.
type Layer struct {
	Chain  digest.Digest
	DiffID digest.Digest
	Empty  bool // nothing changed: no layer was added
}

// Options are the inputs of a build.
type Options struct {
	Dockerfile []byte
	// ContextDir is the build context; "" for none.
	ContextDir string
	BuildArgs  map[string]string
	Target     string
	NoCache    bool
	Pull       bool
	Labels     map[string]string
	Network    string // "bridge" (the engine's default), "host" or "none"
	// Out receives the progress and the output of RUN steps; nil
	// discards them.
	Out io.Writer
	// SourceDateEpoch, when set, is every timestamp of the image and the
	// upper bound of every time in its layers.
	SourceDateEpoch *time.Time
	// CacheDir is where the cache lives.
	CacheDir string
	// TempDir is where downloads (ADD of a URL) are kept during a step;
	// the system's temp directory if empty.
	TempDir string
}

// Result is the built image, not yet stored.
type Result struct {
	Config dockerspec.DockerOCIImage
	Chain  digest.Digest
	// BaseID is set when the result is a base image as it is (a
	// Dockerfile of only FROM): that image is the result.
	BaseID digest.Digest
}

// Build runs the Dockerfile's steps and returns the final image's config.
func Build(ctx context.Context, be Backend, opts Options) (Result, error) {
	b, err := newBuilder(be, opts)
	if err != nil {
		return Result{}, err
	}
	st, err := b.run(ctx)
	_ = b.memo.save() // only a memo: failing to keep it costs a re-read
	if err != nil {
		return Result{}, err
	}
	b.warnUnusedArgs()
	return Result{Config: st.cfg, Chain: st.chain, BaseID: st.imageID}, nil
}
