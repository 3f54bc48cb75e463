package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
)

// imageData is an image record together with what its blobs say.
type imageData struct {
	image.Image
	manifest ocispec.Manifest
	config   image.Config
	chainIDs []digest.Digest // of config.RootFS.DiffIDs, bottom first
}

// readImage reads the manifest and config of img.
func (e *Engine) readImage(ctx context.Context, img image.Image) (*imageData, error) {
	m, err := image.ReadManifest(ctx, e.content, img.Manifest)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading manifest: %w", shortID(img.ID), err)
	}
	cfg, err := image.ReadConfig(ctx, e.content, m.Config)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading config: %w", shortID(img.ID), err)
	}
	return &imageData{Image: img, manifest: m, config: cfg, chainIDs: image.ChainIDs(cfg.RootFS.DiffIDs)}, nil
}

// readImages reads every image, newest first (by config creation time, as
// docker sorts `images`).
func (e *Engine) readImages(ctx context.Context) ([]*imageData, error) {
	imgs, err := e.images.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*imageData, 0, len(imgs))
	for _, img := range imgs {
		d, err := e.readImage(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b *imageData) int {
		return cmp.Or(b.created().Compare(a.created()), strings.Compare(string(a.ID), string(b.ID)))
	})
	return out, nil
}

// created is the image's creation time from its config, zero if unknown.
func (d *imageData) created() time.Time {
	if d.config.Created == nil {
		return time.Time{}
	}
	return *d.config.Created
}

// createdUnix is created in seconds as docker's API gives it; 0 if unknown.
func (d *imageData) createdUnix() int64 {
	if d.config.Created == nil {
		return 0
	}
	return d.config.Created.Unix()
}

// size is the sum of the sizes of the image's layers in the layer store.
func (d *imageData) size(sizes map[digest.Digest]int64) int64 {
	var n int64
	for _, c := range d.chainIDs {
		n += sizes[c]
	}
	return n
}

// layerSizes maps every committed layer's chain ID to its size.
func (e *Engine) layerSizes(ctx context.Context) (map[digest.Digest]int64, error) {
	infos, err := e.layers.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	sizes := make(map[digest.Digest]int64, len(infos))
	for _, l := range infos {
		sizes[l.ChainID] = l.Size
	}
	return sizes, nil
}

// name is how messages name an image: its first tag, else its short ID.
func name(img image.Image) string {
	if len(img.RepoTags) > 0 {
		return img.RepoTags[0]
	}
	return shortID(img.ID)
}

// shortID is docker's 12-digit image ID.
func shortID(id digest.Digest) string {
	s := id.Encoded()
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

// imageRef is one reference to an image, parsed.
type imageRef struct {
	named     reference.Named
	canonical bool // name@digest rather than name:tag
}

// refsOf parses the references of img. They were written by the image
// store, so a failure to parse is a corrupted store.
func refsOf(img image.Image) ([]imageRef, error) {
	refs := make([]imageRef, 0, len(img.RepoTags)+len(img.RepoDigests))
	for _, list := range [][]string{img.RepoTags, img.RepoDigests} {
		for _, s := range list {
			r, err := reference.ParseNoDefaultTag(s)
			if err != nil {
				return nil, fmt.Errorf("image %s: stored reference %q: %w", shortID(img.ID), s, err)
			}
			refs = append(refs, imageRef{named: r, canonical: reference.Digest(r) != ""})
		}
	}
	return refs, nil
}

// children maps each image ID to the IDs of the images whose parent it is.
func children(imgs []image.Image) map[digest.Digest][]digest.Digest {
	m := make(map[digest.Digest][]digest.Digest)
	for _, img := range imgs {
		if img.Parent != "" {
			m[img.Parent] = append(m[img.Parent], img.ID)
		}
	}
	return m
}
