// Package engine is strata's composition root: it opens the stores under
// the configured root, wires them together and offers the use cases the CLI
// (and later the API) call — ImageLoad, ImageRemove, SystemDF, GC and so on.
// It returns data and never prints; every method takes a context first and
// options in a struct.
//
// On disk, under Config.Root:
//
//	content/     blobs (package content)
//	layers/      read-only and writable layers (package layer)
//	images/      image records and references (package image)
//	containers/  container records, names, states and logs (package container)
//	volumes/     named and anonymous volumes (package volume)
//	build/       the build cache, file-hash memo and RUN cache mounts (package build)
//	gc.lock      the garbage-collection lock, see below
//
// and under Config.RunRoot, state that dies with the machine:
//
//	containers/<id>/  a running container's OCI bundle (config.json, the
//	                  rootfs mount point, the monitor's config and stderr)
//	runtime/          the runtime's state directory (package runtime)
//	mounts/           stopped containers' rootfs mounted for export and cp
//	                  (container_mounts.go)
//	build/<id>/       a build step's bundle and rootfs mount; <id>.lock is
//	                  held while the step lives (build_scratch.go)
//
// Garbage collection is by reachability. Image records are the roots (and
// so are the build cache's entries, whose layers a rebuild reuses), and
// containers keep their images through the imageUsers hook; each root keeps its
// manifest, its config, its layer blobs and the layers named by the chain IDs
// of its config's diff IDs. Everything else in the content and layer stores
// is garbage.
//
// Invariant: no collection runs while anything is being added. Every
// operation that adds blobs, layers or references (load, import, tag, and
// later pull, commit, build) holds gc.lock shared for its whole duration;
// reads hold it shared too, so that what they look at does not vanish under
// them; collections, and removals which end in one, hold it exclusively. So
// many loads run in parallel, a prune waits for them, and a collection never
// deletes a blob that a load is about to reference. Leftovers of crashed
// writers (ingests, unpacks) are swept by the stores themselves when opened.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/config"
	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/imagetar"
	"github.com/strata-containers/strata/internal/layer"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/volume"
)

// Engine holds the open stores. It is safe for concurrent use.
type Engine struct {
	cfg     config.Config
	content *content.Store
	layers  *layer.Store
	images  *image.Store
	gcLock  *lockfile.Locker
	// containers is the container store; its records are GC roots
	// through imageUsers, and their writable layers keep their parents.
	containers *container.Store
	volumes    *volume.Store // in use by the containers whose records name them
	net        netState      // networks, opened on first use (network.go)

	// imageUsers is the hook through which containers keep their images:
	// removal refuses to delete an image in use ("image is being used by
	// running container ...") unless forced, and the counts appear in
	// `system df`. It lists the container store (containerImageUsers);
	// tests replace it.
	imageUsers func(ctx context.Context) ([]ImageUse, error)
}

// ImageUse says that a container uses an image.
type ImageUse struct {
	ImageID     digest.Digest
	ContainerID string
	Running     bool
}

// New validates cfg and opens (creating if needed) the stores under cfg.Root.
// Opening sweeps what crashed writers left behind.
func New(ctx context.Context, cfg config.Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Root, 0o711); err != nil {
		return nil, fmt.Errorf("creating root %s: %w", cfg.Root, err)
	}
	cs, err := content.Open(filepath.Join(cfg.Root, "content"))
	if err != nil {
		return nil, fmt.Errorf("opening content store: %w", err)
	}
	ls, err := layer.Open(ctx, layer.Options{Root: filepath.Join(cfg.Root, "layers"), Driver: cfg.StorageDriver})
	if err != nil {
		return nil, fmt.Errorf("opening layer store: %w", err)
	}
	is, err := image.Open(filepath.Join(cfg.Root, "images"))
	if err != nil {
		return nil, fmt.Errorf("opening image store: %w", err)
	}
	cts, err := container.Open(filepath.Join(cfg.Root, "containers"))
	if err != nil {
		return nil, err
	}
	vs, err := volume.Open(filepath.Join(cfg.Root, "volumes"))
	if err != nil {
		return nil, err
	}
	lk, err := lockfile.New(filepath.Join(cfg.Root, "gc.lock"))
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, content: cs, layers: ls, images: is, gcLock: lk, containers: cts,
	}
	e.volumes = vs
	e.imageUsers = e.containerImageUsers
	return e, nil
}

// Close releases the engine's resources. It must not be called while a
// method is running.
func (e *Engine) Close() error { return errors.Join(e.gcLock.Close(), e.volumes.Close()) }

// Config returns the configuration the engine was opened with.
func (e *Engine) Config() config.Config { return e.cfg }

// Driver returns the layer driver in use ("overlay" or "vfs").
func (e *Engine) Driver() string { return e.layers.Driver() }

func (e *Engine) stores() imagetar.Stores {
	return imagetar.Stores{Content: e.content, Images: e.images, Layers: e.layers}
}

// shared takes gc.lock for an operation that adds or reads; the returned
// function releases it. Waiting is not cancellable: a collection is short.
func (e *Engine) shared() func() {
	e.gcLock.RLock()
	return e.gcLock.RUnlock
}

// exclusive takes gc.lock for a collection, waiting for every adder.
func (e *Engine) exclusive(ctx context.Context) (func(), error) {
	if err := e.gcLock.LockContext(ctx); err != nil {
		return nil, err
	}
	return e.gcLock.Unlock, nil
}
