package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
)

// storeImage is the one "layers + config → image" path of `commit` and
// `build`: it writes cfg and a manifest to the content store, records the
// image (unless an image of that ID exists: a rebuild of the same inputs)
// and tags it with names. Every layer of cfg.RootFS is already in the
// layer store. The layers cfg shares with from (the committed container's
// image; nil for a build) keep from's descriptors, so that a pulled base
// stays described by its registry blobs; the others are described as the
// uncompressed tars the layer store rebuilds. from becomes the record's
// parent, as docker's commit does.
func (e *Engine) storeImage(ctx context.Context, cfg image.Config, from *imageData, names []reference.Named) (digest.Digest, error) {
	layers, err := e.layerDescriptors(ctx, cfg.RootFS.DiffIDs, from)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding image config: %w", err)
	}
	config, err := e.content.Ingest(ctx, strings.NewReader(string(data)), digest.FromBytes(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("storing image config: %w", err)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: config.Digest, Size: config.Size},
		Layers:    layers,
	}
	mdata, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding manifest: %w", err)
	}
	mdesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(mdata), Size: int64(len(mdata))}
	if _, err := e.content.Ingest(ctx, strings.NewReader(string(mdata)), mdesc.Digest, mdesc.Size); err != nil {
		return "", fmt.Errorf("storing manifest: %w", err)
	}
	if err := e.recordImage(ctx, image.Record{ID: config.Digest, Manifest: mdesc, Created: time.Now().UTC()}, from); err != nil {
		return "", err
	}
	for _, n := range names {
		if err := e.images.Tag(ctx, n, config.Digest); err != nil {
			return "", fmt.Errorf("tagging image %s as %s: %w", shortID(config.Digest), reference.Familiar(n), err)
		}
	}
	return config.Digest, nil
}

func (e *Engine) recordImage(ctx context.Context, rec image.Record, from *imageData) error {
	_, err := e.images.Get(ctx, rec.ID)
	if err == nil {
		return nil
	}
	if !errdefs.IsNotFound(err) {
		return fmt.Errorf("looking up image %s: %w", shortID(rec.ID), err)
	}
	if from != nil {
		rec.Parent = from.ID
	}
	if err := e.images.Put(ctx, rec); err != nil {
		return fmt.Errorf("recording image %s: %w", shortID(rec.ID), err)
	}
	return nil
}

// layerDescriptors describes the layers diffIDs: from's own descriptors
// for the bottom ones it shares, uncompressed tars for the rest.
func (e *Engine) layerDescriptors(ctx context.Context, diffIDs []digest.Digest, from *imageData) ([]ocispec.Descriptor, error) {
	out := make([]ocispec.Descriptor, 0, len(diffIDs))
	chains := image.ChainIDs(diffIDs)
	for i, d := range diffIDs {
		if from != nil && i < len(from.chainIDs) && i < len(from.manifest.Layers) && from.chainIDs[i] == chains[i] {
			out = append(out, from.manifest.Layers[i])
			continue
		}
		size, err := e.layerTarSize(ctx, chains[i], d)
		if err != nil {
			return nil, err
		}
		out = append(out, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: size})
	}
	return out, nil
}

// layerTarSize is the length of a stored layer's uncompressed tar.
func (e *Engine) layerTarSize(ctx context.Context, chain, diffID digest.Digest) (int64, error) {
	info, err := e.layers.Get(ctx, chain)
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	if info.TarSplit {
		return info.TarSize, nil
	}
	blob, err := e.content.Info(ctx, diffID)
	if err != nil {
		return 0, fmt.Errorf("layer %s: no tar to describe it: %w", diffID, err)
	}
	return blob.Size, nil
}
