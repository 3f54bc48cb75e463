package imagetar

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
	"github.com/strata-containers/strata/internal/reference"
)

// RegisterLayer unpacks the uncompressed layer tar r over parent and, from
// the same read, stores the tar as a blob when the layer store cannot
// rebuild it: what import does for a base layer, for any parent (build
// steps, commit).
func RegisterLayer(ctx context.Context, st Stores, parent digest.Digest, r io.Reader) (layer.Info, error) {
	w, err := st.Content.Writer(ctx, "", -1)
	if err != nil {
		return layer.Info{}, err
	}
	defer w.Close()
	info, err := st.Layers.Register(ctx, parent, "", io.TeeReader(r, w))
	if err != nil {
		return layer.Info{}, err
	}
	if _, err := io.Copy(w, r); err != nil {
		return layer.Info{}, err
	}
	if info.TarSplit {
		return info, nil // the layer store rebuilds the blob; w discards it
	}
	if _, err := w.Commit(ctx); err != nil {
		return layer.Info{}, fmt.Errorf("storing layer: %w", err)
	}
	return info, nil
}

// WriteImage stores the image whose config is cfg, with every layer of
// cfg.RootFS already in the layer store, names it and returns its ID. The
// manifest describes the layers as uncompressed tars, as Load and Import
// make them.
func WriteImage(ctx context.Context, st Stores, cfg image.Config, names []reference.Named) (digest.Digest, error) {
	sizes := make([]int64, len(cfg.RootFS.DiffIDs))
	for i, chain := range image.ChainIDs(cfg.RootFS.DiffIDs) {
		size, err := layerTarSize(ctx, st, chain, cfg.RootFS.DiffIDs[i])
		if err != nil {
			return "", err
		}
		sizes[i] = size
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding config: %w", err)
	}
	config, err := st.Content.Ingest(ctx, strings.NewReader(string(data)), digest.FromBytes(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("storing config: %w", err)
	}
	cdesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: config.Digest, Size: config.Size}
	mdata, mdesc, err := buildManifest(cdesc, tarLayers(cfg.RootFS.DiffIDs, sizes))
	if err != nil {
		return "", err
	}
	if _, err := st.Content.Ingest(ctx, strings.NewReader(string(mdata)), mdesc.Digest, mdesc.Size); err != nil {
		return "", fmt.Errorf("storing manifest: %w", err)
	}
	if _, err := record(ctx, st.Images, config.Digest, mdesc, names); err != nil {
		return "", err
	}
	return config.Digest, nil
}

// layerTarSize is the length of a stored layer's uncompressed tar.
func layerTarSize(ctx context.Context, st Stores, chain, diffID digest.Digest) (int64, error) {
	info, err := st.Layers.Get(ctx, chain)
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	if info.TarSplit {
		return info.TarSize, nil
	}
	blob, err := st.Content.Info(ctx, diffID)
	if err != nil {
		return 0, fmt.Errorf("layer %s: no tar to describe it: %w", diffID, err)
	}
	return blob.Size, nil
}
