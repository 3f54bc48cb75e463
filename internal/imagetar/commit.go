package imagetar

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
	"github.com/strata-containers/strata/internal/unpack"
)

// finish resolves the images of the archive, unpacks all their layers and
// only then writes the image records and tags, so that a failure anywhere
// before leaves no image visible. Last, it drops the layer blobs that the
// layer store rebuilds.
func (l *loader) finish(ctx context.Context) ([]Loaded, error) {
	plans, err := l.plans(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		for i, layer := range p.layers {
			if err := l.layerPresent(ctx, layer, p.diffIDs[i]); err != nil {
				return nil, fmt.Errorf("image %s: %w", p.config.Digest, err)
			}
		}
		if err := l.commitStaged(ctx, p); err != nil {
			return nil, fmt.Errorf("image %s: %w", p.config.Digest, err)
		}
		if _, err := unpack.Layers(ctx, l.st.Content, l.st.Layers, p.layers, p.diffIDs); err != nil {
			return nil, fmt.Errorf("image %s: %w", p.config.Digest, err)
		}
	}
	loaded := make([]Loaded, 0, len(plans))
	for _, p := range plans {
		tags, err := record(ctx, l.st.Images, p.config.Digest, p.manifest, p.names)
		if err != nil {
			return nil, err
		}
		loaded = append(loaded, Loaded{ID: p.config.Digest, Tags: tags})
	}
	l.dropLayerBlobs(ctx, plans)
	return loaded, nil
}

// record writes the image record unless the image exists already (then its
// record, which may name the manifest it was pulled with, is kept) and
// points names at it. It returns the familiar names.
func record(ctx context.Context, images *image.Store, id digest.Digest, manifest ocispec.Descriptor, names []reference.Named) ([]string, error) {
	_, err := images.Get(ctx, id)
	switch {
	case errdefs.IsNotFound(err):
		rec := image.Record{ID: id, Manifest: manifest, Created: time.Now().UTC()}
		if err := images.Put(ctx, rec); err != nil {
			return nil, fmt.Errorf("recording image %s: %w", id, err)
		}
	case err != nil:
		return nil, fmt.Errorf("looking up image %s: %w", id, err)
	}
	var tags []string
	seen := map[string]bool{}
	for _, n := range names {
		f := reference.Familiar(n)
		if seen[f] {
			continue
		}
		seen[f] = true
		if err := images.Tag(ctx, n, id); err != nil {
			return nil, fmt.Errorf("tagging image %s as %s: %w", id, f, err)
		}
		tags = append(tags, f)
	}
	return tags, nil
}

// annotationNames reads the names of an index.json entry: the full name of
// io.containerd.image.name, else org.opencontainers.image.ref.name when it
// is a name and not just a tag ("latest", as umoci and skopeo oci: write,
// names nothing).
func annotationNames(ann map[string]string) ([]reference.Named, error) {
	s := ann[annotationImageName]
	if s == "" {
		s = ann[ocispec.AnnotationRefName]
		if !strings.ContainsAny(s, "/:@") {
			return nil, nil
		}
	}
	ref, err := reference.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: image name: %w", indexFile, err)
	}
	return []reference.Named{ref}, nil
}

func repoTagNames(tags []string) ([]reference.Named, error) {
	var names []reference.Named
	for _, s := range tags {
		ref, err := reference.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s: RepoTags: %w", manifestFile, err)
		}
		names = append(names, ref)
	}
	return names, nil
}

// compressedMediaType sniffs a stored layer blob and returns the OCI media
// type of its compression, "" when it is not compressed.
func (l *loader) compressedMediaType(ctx context.Context, d digest.Digest) (string, error) {
	if l.rebuilt[d] {
		return "", nil // a layer's tar, not stored
	}
	blob, err := l.st.Content.Open(ctx, d)
	if err != nil {
		return "", fmt.Errorf("opening layer %s: %w", d, err)
	}
	defer blob.Close()
	rc, c, err := archive.Decompress(blob)
	if err != nil {
		return "", errdefs.Invalid("layer %s: %w", d, err)
	}
	rc.Close()
	switch c {
	case archive.Gzip:
		return ocispec.MediaTypeImageLayerGzip, nil
	case archive.Zstd:
		return ocispec.MediaTypeImageLayerZstd, nil
	}
	return "", nil
}

func hostPlatform() string { return runtime.GOOS + "/" + runtime.GOARCH }

// matchesHost reports whether an image for p runs here natively. Variants
// are not compared: an index rarely offers two of one architecture.
func matchesHost(p ocispec.Platform) bool {
	return p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH
}
