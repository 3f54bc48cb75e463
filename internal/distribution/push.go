package distribution

import (
	"bytes"
	"context"
	"fmt"
	"io"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
	"github.com/strata-containers/strata/internal/registry"
)

// BlobReader opens local blobs for upload: the one seam through which a
// source that rebuilds blobs (uncompressed layers regenerated from the
// layer store) plugs into push. diffID and chainID name the layer for a
// layer blob, both "" for the config. ContentBlobs reads the content store only.
type BlobReader interface {
	OpenBlob(ctx context.Context, desc ocispec.Descriptor, diffID, chainID digest.Digest) (io.ReadCloser, error)
}

// ContentBlobs reads blobs from a content store.
type ContentBlobs struct{ Content *content.Store }

// OpenBlob opens desc's blob in the content store.
func (c ContentBlobs) OpenBlob(ctx context.Context, desc ocispec.Descriptor, _, _ digest.Digest) (io.ReadCloser, error) {
	return c.Content.Open(ctx, desc.Digest)
}

// PushOptions tune Push.
type PushOptions struct {
	// Blobs reads layer and config blobs; nil means the content store.
	Blobs BlobReader
	// Jobs bounds concurrent blob uploads (default DefaultJobs).
	Jobs int
	// Progress, if set, is told what happens to each blob.
	Progress func(Progress)
	// ProgressBytes asks for "Pushing" reports with byte counts.
	ProgressBytes bool
	// MountFrom are other repositories (paths) of the same registry that
	// may hold the blobs already: each missing blob is mounted from them
	// before it is uploaded.
	MountFrom []string
}

// Pushed is the outcome of a push: what docker prints as
// "<tag>: digest: <digest> size: <size>".
type Pushed struct {
	Tag    string
	Digest digest.Digest
	Size   int64
}

// Push uploads the local image img under ref (a tag) to repo: the blobs the
// registry lacks (HEAD first, then mount, then upload), then the manifest,
// byte for byte as stored, so the digest is the local one. Layers are pushed
// with the media type they have (an uncompressed layer of a docker-archive
// stays uncompressed).
func Push(ctx context.Context, st Stores, repo *registry.Repo, img image.Image, ref reference.Named, opts PushOptions) (Pushed, error) {
	if opts.Blobs == nil {
		opts.Blobs = ContentBlobs{st.Content}
	}
	if opts.Jobs <= 0 {
		opts.Jobs = DefaultJobs
	}
	mdesc := img.Manifest
	data, err := st.Content.ReadAll(ctx, mdesc.Digest)
	if err != nil {
		return Pushed{}, fmt.Errorf("reading manifest of image %s: %w", img.ID, err)
	}
	m, err := image.ReadManifest(ctx, st.Content, mdesc)
	if err != nil {
		return Pushed{}, err
	}
	cfg, err := image.ReadConfig(ctx, st.Content, m.Config)
	if err != nil {
		return Pushed{}, err
	}
	if err := image.CheckLayers(m, cfg); err != nil {
		return Pushed{}, err
	}
	p := &pusher{repo: repo, opts: opts}
	p.progress("", "The push refers to repository ["+ref.Name()+"]")
	if err := p.layers(ctx, m.Layers, cfg.RootFS.DiffIDs); err != nil {
		return Pushed{}, err
	}
	if err := p.blob(ctx, m.Config, "", ""); err != nil {
		return Pushed{}, err
	}
	mt := mdesc.MediaType
	if mt == "" {
		mt = ocispec.MediaTypeImageManifest
	}
	tag := reference.Tag(ref)
	if err := repo.PutManifest(ctx, tag, mt, data); err != nil {
		return Pushed{}, err
	}
	return Pushed{Tag: tag, Digest: mdesc.Digest, Size: int64(len(data))}, nil
}

type pusher struct {
	repo *registry.Repo
	opts PushOptions
}

// layers pushes the layer blobs, a few at once, top first as docker lists
// them. Foreign layers stay where their URLs say.
func (p *pusher) layers(ctx context.Context, layers []ocispec.Descriptor, diffIDs []digest.Digest) error {
	chain := image.ChainIDs(diffIDs)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Jobs)
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		if len(l.URLs) > 0 {
			continue
		}
		p.progress(shortID(l.Digest), "Preparing")
		g.Go(func() error { return p.blob(gctx, l, diffIDs[i], chain[i]) })
	}
	return g.Wait()
}

func (p *pusher) progress(id, status string) {
	if p.opts.Progress != nil {
		p.opts.Progress(Progress{ID: id, Status: status})
	}
}

// blob makes sure the registry has desc: already there, mounted from a
// sibling repository, or uploaded.
func (p *pusher) blob(ctx context.Context, desc ocispec.Descriptor, diffID, chainID digest.Digest) error {
	id := shortID(desc.Digest)
	ok, err := p.repo.HasBlob(ctx, desc.Digest)
	if err != nil {
		return err
	}
	if ok {
		p.progress(id, "Layer already exists")
		return nil
	}
	for _, from := range p.opts.MountFrom {
		if from == p.repo.Name() {
			continue
		}
		ok, err := p.repo.MountBlob(ctx, desc.Digest, from)
		if err != nil {
			return err
		}
		if ok {
			p.progress(id, "Mounted from "+from)
			return nil
		}
	}
	p.progress(id, "Pushing")
	src := func(ctx context.Context) (io.ReadCloser, error) {
		rc, err := p.opts.Blobs.OpenBlob(ctx, desc, diffID, chainID)
		if err != nil {
			return nil, fmt.Errorf("opening blob %s: %w", desc.Digest, err)
		}
		return countBytes(rc, p.opts.Progress, p.opts.ProgressBytes, id, "Pushing", desc.Size), nil
	}
	if err := p.repo.PushBlob(ctx, desc, src); err != nil {
		return err
	}
	p.progress(id, "Pushed")
	return nil
}

// MountSources returns the repositories (paths) of the registry domain that
// the image is known by locally: candidates for cross-repository mounts.
func MountSources(img image.Image, domain string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range append(append([]string(nil), img.RepoTags...), img.RepoDigests...) {
		r, err := reference.ParseNoDefaultTag(s)
		if err != nil || dref.Domain(r) != domain {
			continue
		}
		path := dref.Path(r)
		if !seen[path] {
			seen[path] = true
			out = append(out, path)
		}
	}
	return out
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
