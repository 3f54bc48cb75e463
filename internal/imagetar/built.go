package imagetar

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/layer"
)

// RegisterLayer unpacks the uncompressed layer tar r over parent and, from
// the same read, stores the tar as a blob when the layer store cannot
// rebuild it: what import does for a base layer, for any parent (the
// COPY and ADD steps of build, whose tar cannot be written again; a
// writable layer's changes go through the engine's commitLayer instead).
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
