package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
)

// committedLayer is a writable layer turned into a read-only one.
type committedLayer struct {
	DiffID  digest.Digest // of the layer tar
	ChainID digest.Digest // on top of the parent chain
	Size    int64         // bytes of the layer tar
	Empty   bool          // nothing changed and SkipEmpty: no layer was made
}

// commitOptions tune commitLayer for its two users, `commit` and the
// steps of `build`.
type commitOptions struct {
	// Clamp, if set, is the latest time the layer's entries may carry
	// (SOURCE_DATE_EPOCH): later ones are set to it, so that a build's
	// layers are reproducible.
	Clamp *time.Time
	// SkipEmpty makes no layer when nothing changed (a build step), where
	// `commit` adds an empty one, as docker does.
	SkipEmpty bool
}

// commitLayer turns the writable layer rwID into a read-only layer on top
// of parentChain (the chain ID the writable layer was made on; "" for none):
// its changes are written as a layer tar with whiteouts (archive.WriteDiff
// of the overlay upper directory, or archive.WriteChanges against the parent
// on vfs) and streamed into the layer store, which keeps them once, as a
// directory with tar-split metadata; no blob is stored unless the layer store
// cannot rebuild the tar. The parent's layers are shared, not copied. The
// caller holds gc.lock shared, and keeps the writable layer from changing
// (a paused or stopped container, an ended build step) if it wants a
// consistent snapshot. It is the one "writable layer → layer" path: `commit`
// and every RUN step of `build` use it.
func (e *Engine) commitLayer(ctx context.Context, rwID string, parentChain digest.Digest, o commitOptions) (committedLayer, error) {
	if o.SkipEmpty && e.layers.Driver() != "vfs" {
		if ents, err := os.ReadDir(e.layers.RWDir(rwID)); err == nil && len(ents) == 0 {
			return committedLayer{Empty: true}, nil
		}
	}
	// A remapped container's owners go back to the container's ids.
	changes := func() io.ReadCloser {
		return e.unshiftedChanges(ctx, rwID, e.changesTar(ctx, rwID, parentChain, o.Clamp))
	}
	cl, err := e.registerTar(ctx, parentChain, changes, o.SkipEmpty)
	if err != nil {
		return committedLayer{}, fmt.Errorf("committing writable layer %s: %w", rwID, err)
	}
	return cl, nil
}

// registerTar registers the layer tar tarStream makes over parentChain;
// when the layer store cannot rebuild that tar from what it keeps (a tar
// that writes a path twice), tarStream is read again to store it as a blob,
// and must give the same bytes. So no tar is written twice in the common
// case: not even to a temporary blob. Closing a stream stops its writer.
func (e *Engine) registerTar(ctx context.Context, parentChain digest.Digest, tarStream func() io.ReadCloser, skipEmpty bool) (committedLayer, error) {
	tr := tarStream()
	defer tr.Close() // ends the writer if Register stopped early
	var r io.Reader = tr
	if skipEmpty {
		br := bufio.NewReaderSize(tr, 64<<10)
		if head, _ := br.Peek(512); len(head) == 512 && bytes.Count(head, []byte{0}) == 512 {
			// The tar starts with its end marker: nothing changed (vfs, or
			// an overlay upper holding only what the runtime put there).
			return committedLayer{Empty: true}, nil
		}
		r = br
	}
	info, err := e.layers.Register(ctx, parentChain, "", r)
	if err != nil {
		return committedLayer{}, err
	}
	if !info.TarSplit {
		if err := e.storeLayerBlob(ctx, tarStream, info); err != nil {
			return committedLayer{}, err
		}
	}
	return committedLayer{DiffID: info.DiffID, ChainID: info.ChainID, Size: info.TarSize}, nil
}

// changesTar streams the layer tar of writable layer rwID, its times
// clamped to clamp if set; closing the reader stops the writer.
func (e *Engine) changesTar(ctx context.Context, rwID string, parentChain digest.Digest, clamp *time.Time) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		upper := e.layers.RWDir(rwID)
		if e.layers.Driver() != "vfs" {
			pw.CloseWithError(archive.WriteDiff(ctx, pw, upper))
			return
		}
		lower := ""
		if parentChain != "" {
			lower = e.layers.Dir(parentChain)
		}
		pw.CloseWithError(vfsLayerTar(ctx, pw, lower, upper))
	}()
	if clamp == nil {
		return pr
	}
	return clampedReader{clampTimes(pr, *clamp), pr}
}

// clampedReader reads the clamped tar; closed, it stops both writers.
type clampedReader struct {
	*io.PipeReader
	src *io.PipeReader
}

func (c clampedReader) Close() error {
	c.src.Close()
	return c.PipeReader.Close()
}

// vfsLayerTar writes the changes of a vfs writable layer (a full tree)
// against its parent's tree, or the whole tree for a layer with no parent.
func vfsLayerTar(ctx context.Context, w io.Writer, lower, upper string) error {
	if lower == "" {
		return archive.WriteTree(ctx, w, upper)
	}
	return archive.WriteChanges(ctx, w, lower, upper)
}

// storeLayerBlob keeps the tar of a layer the layer store cannot rebuild
// as a blob, written again by tarStream: it must hash to the same diffID.
func (e *Engine) storeLayerBlob(ctx context.Context, tarStream func() io.ReadCloser, info layer.Info) error {
	w, err := e.content.Writer(ctx, info.DiffID, -1)
	if err != nil {
		return err
	}
	defer w.Close()
	tr := tarStream()
	defer tr.Close()
	if _, err := io.Copy(w, tr); err != nil {
		return fmt.Errorf("storing layer %s: %w", info.DiffID, err)
	}
	if _, err := w.Commit(ctx); err != nil {
		return errdefs.Conflict("storing layer %s: its source changed while it was committed: %w", info.DiffID, err)
	}
	return nil
}
