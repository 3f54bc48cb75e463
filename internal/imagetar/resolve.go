package imagetar

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
)

// maxIndexDepth bounds nested indexes (an index of indexes of manifests is
// already unusual).
const maxIndexDepth = 4

// plan is one image found in an archive, ready to unpack and record.
type plan struct {
	manifest ocispec.Descriptor // stored in the content store
	config   ocispec.Descriptor
	layers   []ocispec.Descriptor
	diffIDs  []digest.Digest
	names    []reference.Named
}

// plans resolves the archive's images: index.json first, manifest.json when
// there is no index or it names nothing (Docker 25.0 wrote such indexes).
func (l *loader) plans(ctx context.Context) ([]*plan, error) {
	var items []manifestItem
	if data, ok := l.meta[manifestFile]; ok {
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, errdefs.Invalid("parsing %s: %w", manifestFile, err)
		}
	}
	var out []*plan
	if data, ok := l.meta[indexFile]; ok {
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return nil, errdefs.Invalid("parsing %s: %w", indexFile, err)
		}
		for _, desc := range idx.Manifests {
			p, err := l.indexPlan(ctx, desc, items)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		for _, item := range items {
			p, err := l.classicPlan(ctx, item)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errdefs.Invalid("no images found in archive")
	}
	return merge(out), nil
}

// indexPlan resolves one entry of index.json.
func (l *loader) indexPlan(ctx context.Context, desc ocispec.Descriptor, items []manifestItem) (*plan, error) {
	names, err := annotationNames(desc.Annotations)
	if err != nil {
		return nil, err
	}
	mdesc, err := l.platformManifest(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	m, err := image.ReadManifest(ctx, l.st.Content, mdesc)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", mdesc.Digest, err)
	}
	cfg, err := l.readConfig(ctx, m.Config)
	if err != nil {
		return nil, err
	}
	diffIDs := cfg.RootFS.DiffIDs
	if len(m.Layers) == 0 && len(diffIDs) > 0 {
		// Docker 25.0.0 wrote manifests without layers (moby#47065); its
		// manifest.json beside them is right.
		for _, item := range items {
			if d, ok := l.lookup(item.Config); ok && d == m.Config.Digest {
				p, err := l.classicPlan(ctx, item)
				if err == nil && len(names) > 0 {
					p.names = names
				}
				return p, err
			}
		}
	}
	if len(m.Layers) != len(diffIDs) {
		return nil, errdefs.Invalid("image %s: manifest has %d layers but config rootfs.diff_ids has %d",
			m.Config.Digest, len(m.Layers), len(diffIDs))
	}
	return &plan{manifest: mdesc, config: m.Config, layers: m.Layers, diffIDs: diffIDs, names: names}, nil
}

// platformManifest follows nested indexes down to one image manifest: the
// one for this host if there is one, else the only one whose blob is here.
func (l *loader) platformManifest(ctx context.Context, desc ocispec.Descriptor, depth int) (ocispec.Descriptor, error) {
	if err := checkMediaType(desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	if !image.IsIndex(desc.MediaType) {
		if err := l.present(ctx, desc.Digest, "manifest"); err != nil {
			return ocispec.Descriptor{}, err
		}
		return desc, nil
	}
	if depth >= maxIndexDepth {
		return ocispec.Descriptor{}, errdefs.Invalid("index %s: indexes nested too deep", desc.Digest)
	}
	if err := l.present(ctx, desc.Digest, "index"); err != nil {
		return ocispec.Descriptor{}, err
	}
	idx, err := image.ReadIndex(ctx, l.st.Content, desc)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("reading index %s: %w", desc.Digest, err)
	}
	var here []ocispec.Descriptor
	for _, m := range idx.Manifests {
		if l.blobs[m.Digest] {
			here = append(here, m)
		}
	}
	for _, m := range here {
		if m.Platform != nil && matchesHost(*m.Platform) {
			return l.platformManifest(ctx, m, depth+1)
		}
	}
	if len(here) == 1 {
		return l.platformManifest(ctx, here[0], depth+1)
	}
	return ocispec.Descriptor{}, errdefs.Invalid("index %s: no manifest for %s in the archive", desc.Digest, hostPlatform())
}

// checkMediaType rejects what cannot be an image: schema 1 above all, whose
// layers cannot be verified against a config.
func checkMediaType(desc ocispec.Descriptor) error {
	switch {
	case strings.HasPrefix(desc.MediaType, "application/vnd.docker.distribution.manifest.v1"):
		return errdefs.Invalid("manifest %s: schema 1 images are not supported", desc.Digest)
	case image.IsIndex(desc.MediaType), image.IsManifest(desc.MediaType):
		return nil
	}
	return errdefs.Invalid("index entry %s: media type %q is not an image", desc.Digest, desc.MediaType)
}

// classicPlan turns a manifest.json entry into an image with an OCI
// manifest, stored so that every loaded image has one.
func (l *loader) classicPlan(ctx context.Context, item manifestItem) (*plan, error) {
	configDigest, ok := l.lookup(item.Config)
	if !ok {
		return nil, errdefs.Invalid("%s refers to %q, which is not in the archive", manifestFile, item.Config)
	}
	cfg, err := l.readConfig(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: configDigest})
	if err != nil {
		return nil, err
	}
	diffIDs := cfg.RootFS.DiffIDs
	if len(item.Layers) != len(diffIDs) {
		return nil, errdefs.Invalid("image %s: %s lists %d layers but config rootfs.diff_ids has %d",
			configDigest, manifestFile, len(item.Layers), len(diffIDs))
	}
	layers := make([]ocispec.Descriptor, len(item.Layers))
	for i, name := range item.Layers {
		if layers[i], err = l.classicLayer(ctx, name, diffIDs[i]); err != nil {
			return nil, fmt.Errorf("image %s: %w", configDigest, err)
		}
	}
	info, err := l.st.Content.Info(ctx, configDigest)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", configDigest, err)
	}
	config := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: configDigest, Size: info.Size}
	data, mdesc, err := buildManifest(config, layers)
	if err != nil {
		return nil, err
	}
	if _, err := l.st.Content.Ingest(ctx, strings.NewReader(string(data)), mdesc.Digest, mdesc.Size); err != nil {
		return nil, fmt.Errorf("storing manifest of %s: %w", configDigest, err)
	}
	names, err := repoTagNames(item.RepoTags)
	if err != nil {
		return nil, err
	}
	return &plan{manifest: mdesc, config: config, layers: layers, diffIDs: diffIDs, names: names}, nil
}

// classicLayer describes a layer file of a classic archive. Layers there
// are uncompressed tars named by nothing: their digest must be the diffID.
// Some writers compress them; then the media type says so and the layer
// store checks the diffID while unpacking.
func (l *loader) classicLayer(ctx context.Context, name string, diffID digest.Digest) (ocispec.Descriptor, error) {
	d, ok := l.lookup(name)
	if !ok {
		return ocispec.Descriptor{}, errdefs.Invalid("%s refers to %q, which is not in the archive", manifestFile, name)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: l.sizes[d]}
	if d == diffID {
		return desc, nil
	}
	mediaType, err := l.compressedMediaType(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if mediaType == "" {
		return ocispec.Descriptor{}, errdefs.Invalid("layer %s: digest %s does not match diff_id %s", name, d, diffID)
	}
	desc.MediaType = mediaType
	return desc, nil
}

func (l *loader) readConfig(ctx context.Context, desc ocispec.Descriptor) (image.Config, error) {
	if err := l.present(ctx, desc.Digest, "config"); err != nil {
		return image.Config{}, err
	}
	cfg, err := image.ReadConfig(ctx, l.st.Content, desc)
	if err != nil {
		return image.Config{}, fmt.Errorf("reading config %s: %w", desc.Digest, err)
	}
	return cfg, nil
}

// present checks that a blob the archive refers to is stored, from the
// archive or from an earlier pull.
func (l *loader) present(ctx context.Context, d digest.Digest, what string) error {
	if l.blobs[d] {
		return nil
	}
	if err := d.Validate(); err != nil {
		return errdefs.Invalid("%s digest %q: %w", what, d, err)
	}
	_, err := l.st.Content.Info(ctx, d)
	if errdefs.IsNotFound(err) {
		return errdefs.Invalid("%s %s is not in the archive", what, d)
	}
	return err
}

// merge folds plans of the same image (one per tag in index.json) together.
func merge(plans []*plan) []*plan {
	var out []*plan
	byID := map[digest.Digest]*plan{}
	for _, p := range plans {
		if prev, ok := byID[p.config.Digest]; ok {
			prev.names = append(prev.names, p.names...)
			continue
		}
		byID[p.config.Digest] = p
		out = append(out, p)
	}
	return out
}
