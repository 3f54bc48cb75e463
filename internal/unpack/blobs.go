package unpack

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
)

// LayerBlobs is how everything that reads the blobs of image layers (save,
// the system check, unpacking, later push) opens them. The blob of an
// uncompressed layer is its tar, which the layer store rebuilds byte for
// byte from the layer (layer.Store.Diff), so such a blob is not kept once
// its layer is registered; LayerBlobs reads the content store first and
// rebuilds the blob when the content store lacks it.
type LayerBlobs struct {
	Content *content.Store
	Layers  *layer.Store
}

// Open returns a reader of the blob desc of the layer with diffID, and the
// blob's size. chainID names the layer in its image ("" if unknown); any
// layer with the same diffID rebuilds the same tar. A rebuilt blob is
// checked against diffID as it is read (layer.Store.Diff). A blob that can
// be neither read nor rebuilt is an errdefs.ErrNotFound error.
func (b LayerBlobs) Open(ctx context.Context, desc ocispec.Descriptor, diffID, chainID digest.Digest) (io.ReadCloser, int64, error) {
	f, err := b.Content.Open(ctx, desc.Digest)
	if err == nil {
		size, err := f.Seek(0, io.SeekEnd)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("blob %s: %w", desc.Digest, err)
		}
		return f, size, nil
	}
	if !errdefs.IsNotFound(err) {
		return nil, 0, err
	}
	l, rerr := Rebuilder(ctx, b.Layers, desc, diffID, chainID)
	if rerr != nil {
		return nil, 0, notRebuilt(err, rerr)
	}
	rc, err := b.Layers.Diff(ctx, l.ChainID)
	if err != nil {
		return nil, 0, fmt.Errorf("blob %s: rebuilding it from layer %s: %w", desc.Digest, l.ChainID, err)
	}
	return rc, l.TarSize, nil
}

// Stat returns the size of the blob desc of the layer with diffID, which
// is either stored or can be rebuilt; errdefs.ErrNotFound if neither.
func (b LayerBlobs) Stat(ctx context.Context, desc ocispec.Descriptor, diffID, chainID digest.Digest) (int64, error) {
	info, err := b.Content.Info(ctx, desc.Digest)
	if err == nil || !errdefs.IsNotFound(err) {
		return info.Size, err
	}
	l, rerr := Rebuilder(ctx, b.Layers, desc, diffID, chainID)
	if rerr != nil {
		return 0, notRebuilt(err, rerr)
	}
	return l.TarSize, nil
}

// notRebuilt keeps the content store's "not found" unless looking for a
// layer to rebuild the blob failed for another reason.
func notRebuilt(notFound, rerr error) error {
	if errdefs.IsNotFound(rerr) {
		return notFound
	}
	return rerr
}

// Uncompressed reports whether desc is the uncompressed tar of the layer
// with diffID: its digest is the diffID and its media type says so. Only
// such blobs are left to the layer store to rebuild.
func Uncompressed(desc ocispec.Descriptor, diffID digest.Digest) bool {
	switch desc.MediaType {
	case ocispec.MediaTypeImageLayer, image.MediaTypeDockerLayer:
		return desc.Digest == diffID
	}
	return false
}

// Rebuilder returns a layer whose Diff is the blob desc of the layer with
// diffID: the layer chainID if it can rebuild its tar, else any layer with
// that diffID that can. A blob whose digest is not the diffID (compressed)
// cannot be rebuilt; neither can one when no such layer has tar-split
// metadata. Both are errdefs.ErrNotFound errors.
func Rebuilder(ctx context.Context, ls *layer.Store, desc ocispec.Descriptor, diffID, chainID digest.Digest) (layer.Info, error) {
	// Whatever the media type says, a blob that hashes to the diffID is the
	// uncompressed tar.
	if desc.Digest != diffID {
		return layer.Info{}, errdefs.NotFound("blob %s: compressed, it cannot be rebuilt", desc.Digest)
	}
	if chainID != "" {
		l, err := ls.Get(ctx, chainID)
		switch {
		case err == nil && l.TarSplit && l.DiffID == diffID:
			return l, nil
		case err != nil && !errdefs.IsNotFound(err):
			return layer.Info{}, err
		}
	}
	all, err := ls.List(ctx)
	if err != nil {
		return layer.Info{}, err
	}
	for _, l := range all {
		if l.TarSplit && l.DiffID == diffID {
			return l, nil
		}
	}
	return layer.Info{}, errdefs.NotFound("blob %s: no layer can rebuild it", desc.Digest)
}

// openLayerBlob is what Layers reads a missing layer from: the source, or,
// when the source lacks the blob, the tar rebuilt from a layer of the same
// diffID elsewhere in the store (another image may have it on another
// parent).
func openLayerBlob(ctx context.Context, src Source, ls *layer.Store, desc ocispec.Descriptor, diffID digest.Digest) (io.ReadCloser, error) {
	blob, err := src.Open(ctx, desc.Digest)
	if err == nil {
		return blob, nil
	}
	if !errdefs.IsNotFound(err) {
		return nil, err
	}
	l, rerr := Rebuilder(ctx, ls, desc, diffID, "")
	if rerr != nil {
		return nil, notRebuilt(err, rerr)
	}
	return ls.Diff(ctx, l.ChainID)
}
