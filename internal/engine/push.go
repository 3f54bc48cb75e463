package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/distribution"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
	"github.com/strata-containers/strata/internal/unpack"
)

// PushOptions tune ImagePush.
type PushOptions struct {
	Registry RegistryOptions
	AllTags  bool // push every local tag of the repository
	Progress func(Progress)
	// ProgressBytes adds throttled byte counts to Progress ("Pushing" with
	// Current/Total), for a terminal's progress bars.
	ProgressBytes bool
}

// PushResult is one tag pushed: docker prints "<Tag>: digest: <Digest> size: <Size>".
type PushResult struct {
	Tag    string
	Digest string
	Size   int64
}

// ImagePush pushes name (`docker push`): one tag ("latest" when none is
// given), or with AllTags every local tag of the repository.
func (e *Engine) ImagePush(ctx context.Context, name string, opts PushOptions) ([]PushResult, error) {
	ref, err := reference.ParseNoDefaultTag(name)
	if err != nil {
		return nil, err
	}
	if reference.Digest(ref) != "" {
		return nil, errdefs.Invalid("cannot push a digest reference: %s", name)
	}
	defer e.shared()()
	refs, err := e.pushRefs(ctx, ref, opts.AllTags)
	if err != nil {
		return nil, err
	}
	client, err := registryClient(opts.Registry)
	if err != nil {
		return nil, err
	}
	var out []PushResult
	for _, r := range refs {
		img, err := e.images.Resolve(ctx, r.String())
		if errdefs.IsNotFound(err) {
			return out, errdefs.NotFound("An image does not exist locally with the tag: %s", reference.FamiliarRepository(r))
		}
		if err != nil {
			return out, err
		}
		from := distribution.MountSources(img, dref.Domain(r))
		repo, err := client.Repository(ctx, r, true, from...)
		if err != nil {
			return out, err
		}
		p, err := distribution.Push(ctx, e.distStores(), repo, img, r, distribution.PushOptions{Progress: opts.Progress, ProgressBytes: opts.ProgressBytes, MountFrom: from, Blobs: e.pushBlobs()})
		if err != nil {
			return out, fmt.Errorf("pushing %s: %w", reference.Familiar(r), err)
		}
		out = append(out, PushResult{Tag: p.Tag, Digest: p.Digest.String(), Size: p.Size})
	}
	return out, nil
}

// pushRefs is ref with "latest" added, or with allTags every local tag of
// its repository.
func (e *Engine) pushRefs(ctx context.Context, ref reference.Named, allTags bool) ([]reference.Named, error) {
	if !allTags {
		return []reference.Named{dref.TagNameOnly(ref)}, nil
	}
	if !dref.IsNameOnly(ref) {
		return nil, errdefs.Invalid("tag can't be used with --all-tags/-a")
	}
	imgs, err := e.images.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []reference.Named
	for _, img := range imgs {
		for _, t := range img.RepoTags {
			r, err := reference.Parse(t)
			if err == nil && r.Name() == ref.Name() {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		return nil, errdefs.NotFound("An image does not exist locally with the tag: %s", reference.FamiliarRepository(ref))
	}
	slices.SortFunc(out, func(a, b reference.Named) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// pushBlobs reads blobs from the content store and, for an uncompressed
// layer whose blob is not kept there (a loaded docker-archive's), rebuilds
// it from the layer store (unpack.LayerBlobs).
func (e *Engine) pushBlobs() distribution.BlobReader {
	return layerBlobs{unpack.LayerBlobs{Content: e.content, Layers: e.layers}}
}

type layerBlobs struct{ b unpack.LayerBlobs }

func (l layerBlobs) OpenBlob(ctx context.Context, desc ocispec.Descriptor, diffID, chainID digest.Digest) (io.ReadCloser, error) {
	if diffID == "" {
		return l.b.Content.Open(ctx, desc.Digest)
	}
	rc, _, err := l.b.Open(ctx, desc, diffID, chainID)
	return rc, err
}
