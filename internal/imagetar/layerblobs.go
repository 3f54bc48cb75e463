package imagetar

import (
	"context"
	"io"
	"log/slog"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/unpack"
)

// The blob of an uncompressed layer is the layer's tar, which the layer
// store rebuilds byte for byte (unpack.LayerBlobs), so a load keeps no such
// blob: one whose layer is in the layer store already is verified and not
// stored, and the ones it stores go once the image records are written.

// ingest stores a blob of the archive, or only verifies it when it is the
// tar of a layer that the layer store can rebuild. Either way it returns
// the blob's digest and size.
func (l *loader) ingest(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (content.Info, error) {
	if expected != "" && l.canRebuild(ctx, expected, false) {
		return l.verify(ctx, r, expected, size)
	}
	w, err := l.st.Content.Writer(ctx, expected, size)
	if err != nil {
		return content.Info{}, err
	}
	defer w.Close()
	if expected == "" {
		w.Speculative() // it may be the tar of a layer that is here
	}
	n, err := io.CopyBuffer(w, ctxReader{ctx, r}, l.copyBuf())
	if err != nil {
		return content.Info{}, err
	}
	d := w.Digest()
	ok := (expected == "" || d == expected) && (size < 0 || n == size)
	// A classic archive names layers by nothing: only now is it known that
	// this one is in the layer store. The bytes written go with the ingest.
	if ok && l.canRebuild(ctx, d, false) {
		l.rebuilt[d] = true
		return content.Info{Digest: d, Size: n}, nil
	}
	info, err := w.Commit(ctx)
	// A concurrent load dropped the stored copy this one was checked
	// against: the layer it registered rebuilds it.
	if errdefs.IsConflict(err) && ok && l.canRebuild(ctx, d, true) {
		l.rebuilt[d] = true
		return content.Info{Digest: d, Size: n}, nil
	}
	return info, err
}

// verify reads a blob the layer store can rebuild and checks it is the
// blob its name promises.
func (l *loader) verify(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (content.Info, error) {
	h := digest.SHA256.Digester()
	n, err := io.CopyBuffer(h.Hash(), ctxReader{ctx, r}, l.copyBuf())
	if err != nil {
		return content.Info{}, err
	}
	if size >= 0 && n != size {
		return content.Info{}, errdefs.Invalid("blob %s: size mismatch: expected %d bytes, got %d", expected, size, n)
	}
	if actual := h.Digest(); actual != expected {
		return content.Info{}, errdefs.Invalid("blob digest mismatch: expected %s, actual %s", expected, actual)
	}
	l.rebuilt[expected] = true
	return content.Info{Digest: expected, Size: n}, nil
}

// canRebuild reports whether d is the diffID of a layer in the store that
// can rebuild its tar. The store is listed once per load, and again when
// refresh asks for a layer another process may have added since.
func (l *loader) canRebuild(ctx context.Context, d digest.Digest, refresh bool) bool {
	if l.rebuildable == nil || refresh {
		infos, err := l.st.Layers.List(ctx)
		if err != nil {
			slog.DebugContext(ctx, "listing layers failed; storing layer blobs", "error", err)
			return false
		}
		l.rebuildable = make(map[digest.Digest]bool, len(infos))
		for _, info := range infos {
			if info.TarSplit {
				l.rebuildable[info.DiffID] = true
			}
		}
	}
	return l.rebuildable[d]
}

func (l *loader) copyBuf() []byte {
	if l.buf == nil {
		l.buf = make([]byte, copyBuffer)
	}
	return l.buf
}

// layerPresent checks that a layer blob the image needs is here: from the
// archive, stored earlier, or rebuildable from a layer in the store.
func (l *loader) layerPresent(ctx context.Context, desc ocispec.Descriptor, diffID digest.Digest) error {
	err := l.present(ctx, desc.Digest, "layer")
	if err == nil {
		return nil
	}
	if _, rerr := unpack.Rebuilder(ctx, l.st.Layers, desc, diffID, ""); rerr == nil {
		return nil
	}
	return err
}

// dropLayerBlobs deletes the uncompressed layer blobs of the loaded images
// that the load found in the content store, now that their layers (whose
// directories and tar-split metadata hold the same bytes) are registered
// and reachable from the image records. A blob another reference needs as
// it is (a compressed one, a layer without metadata) stays. Failing to
// delete leaves a redundant blob, which is no reason to fail the load.
func (l *loader) dropLayerBlobs(ctx context.Context, plans []*plan) {
	drop, keep := map[digest.Digest]bool{}, map[digest.Digest]bool{}
	for _, p := range plans {
		chain := image.ChainIDs(p.diffIDs)
		for i, desc := range p.layers {
			d := desc.Digest
			if !l.blobs[d] || l.rebuilt[d] {
				continue
			}
			info, err := l.st.Layers.Get(ctx, chain[i])
			if err == nil && info.TarSplit && unpack.Uncompressed(desc, p.diffIDs[i]) {
				drop[d] = true
			} else {
				keep[d] = true
			}
		}
	}
	for d := range drop {
		if keep[d] {
			continue
		}
		if err := l.st.Content.Delete(ctx, d); err != nil && !errdefs.IsNotFound(err) {
			slog.WarnContext(ctx, "could not drop a layer blob the layer store rebuilds", "digest", d, "error", err)
		}
	}
}
