// Package unpack makes sure every layer of an image is in the layer store.
//
// It owns the step between "the blobs are here" and "the rootfs can be
// assembled": for each layer it opens the blob, sniffs and undoes its
// compression (whatever the media type claims) and hands the tar stream to
// layer.Store.Register, which verifies the diffID while applying it.
//
// Invariants:
//   - a layer already present (by chain ID) is never read again: its blob is
//     not even opened, so an image whose blobs were garbage-collected after
//     unpacking can still be re-registered;
//   - Layers returns only once every layer of the chain is committed, so the
//     caller may write the image record after it and never before;
//   - the per-layer step (Layer) takes an io.Reader, so a registry download
//     can be streamed straight into it without first landing in the content
//     store;
//   - an uncompressed layer's blob need not be stored: when the source
//     lacks it, Layers rebuilds it from a layer of the same diffID.
//
// LayerBlobs is the one way to read layer blobs for the rest of strata: the
// content store when it has the blob, else the tar rebuilt by the layer
// store (only uncompressed blobs, whose bytes are the layer's tar, can be
// rebuilt; compressed ones are always kept).
package unpack

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
)

// maxParallel bounds concurrent unpacks. Each one runs a decompressor
// goroutine and writes files, so a few overlap CPU with disk well; more would
// only fight over the same disk.
const maxParallel = 3

// Source opens blobs; *content.Store satisfies it.
type Source interface {
	Open(ctx context.Context, d digest.Digest) (content.ReadSeekCloser, error)
}

// Layers registers every layer (descs[i] is the blob whose uncompressed form
// has diffIDs[i]) and returns the chain ID of the top layer ("" for an image
// without layers). Layers already present (by chain ID) are skipped without
// opening their blob. When the store allows it (layer.Store.ConcurrentRegister)
// missing layers are unpacked concurrently, bounded; otherwise in order.
func Layers(ctx context.Context, src Source, ls *layer.Store, descs []ocispec.Descriptor, diffIDs []digest.Digest) (digest.Digest, error) {
	if len(descs) != len(diffIDs) {
		return "", errdefs.Invalid("image has %d layers but %d diff IDs", len(descs), len(diffIDs))
	}
	if len(descs) == 0 {
		return "", nil
	}
	chain := chainIDs(diffIDs)
	missing, err := missingLayers(ctx, ls, chain)
	if err != nil {
		return "", err
	}
	top := chain[len(chain)-1]
	if len(missing) == 0 {
		return top, nil
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(1)
	if ls.ConcurrentRegister() {
		g.SetLimit(maxParallel)
	}
	for _, i := range missing {
		if gctx.Err() != nil {
			break // a layer failed: do not start the others
		}
		var parent digest.Digest
		if i > 0 {
			parent = chain[i-1]
		}
		g.Go(func() error {
			return fromSource(gctx, src, ls, parent, descs[i], diffIDs[i])
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	return top, nil
}

// Layer registers one layer read from r, compressed or not, on top of parent
// ("" for a base layer) and returns it. The tar must hash to diffID; a
// mismatch is an errdefs.ErrInvalid error and stores nothing.
func Layer(ctx context.Context, ls *layer.Store, parent, diffID digest.Digest, r io.Reader) (layer.Info, error) {
	tr, _, err := archive.Decompress(r)
	if err != nil {
		return layer.Info{}, fmt.Errorf("decompressing layer %s: %w", diffID, err)
	}
	// Close stops the decompressor goroutine even when Register returns
	// early (the layer existed, or the tar was bad).
	defer tr.Close()
	info, err := ls.Register(ctx, parent, diffID, tr)
	if err != nil {
		return layer.Info{}, fmt.Errorf("registering layer %s: %w", diffID, err)
	}
	return info, nil
}

func fromSource(ctx context.Context, src Source, ls *layer.Store, parent digest.Digest, desc ocispec.Descriptor, diffID digest.Digest) error {
	blob, err := openLayerBlob(ctx, src, ls, desc, diffID)
	if err != nil {
		return fmt.Errorf("opening blob %s of layer %s: %w", desc.Digest, diffID, err)
	}
	defer blob.Close()
	_, err = Layer(ctx, ls, parent, diffID, blob)
	return err
}

// missingLayers returns the indexes of the chain's layers not in the store.
// Every layer is checked, not only the top one: with concurrent registration
// a child can be committed before its parent, and a crash in between leaves
// a present top layer over a missing base.
func missingLayers(ctx context.Context, ls *layer.Store, chain []digest.Digest) ([]int, error) {
	var missing []int
	for i, id := range chain {
		_, err := ls.Get(ctx, id)
		switch {
		case err == nil:
		case errdefs.IsNotFound(err):
			missing = append(missing, i)
		default:
			return nil, fmt.Errorf("looking up layer %s: %w", id, err)
		}
	}
	return missing, nil
}

func chainIDs(diffIDs []digest.Digest) []digest.Digest {
	chain := make([]digest.Digest, len(diffIDs))
	var parent digest.Digest
	for i, d := range diffIDs {
		parent = layer.ChainID(parent, d)
		chain[i] = parent
	}
	return chain
}
