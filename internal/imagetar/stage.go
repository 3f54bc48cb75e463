package imagetar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
)

// A layer's tar usually comes before the manifest that says which layer it
// is (classic archives put manifest.json last; an OCI layout's blobs come in
// any order). Storing it as a blob and unpacking it from there once the
// manifest is read costs a second write, a second read and a second SHA-256
// of every byte, for a blob that is dropped in the end (the layer store
// rebuilds it). So a file that looks like an uncompressed tar is unpacked
// straight into a staged layer (layer.Store.Stage) as it streams by, and
// committed under its chain ID once the manifest names its parent. Its
// diffID is the SHA-256 of the bytes read, so the blob's digest, its name's
// promise and the config's diffID are all checked against the same hash.
// Staged layers nobody uses are discarded at the end of the load; a crash
// leaves them in the layer store's tmp, which the next Open sweeps.

// minStaged is the smallest file staged: tiny layers gain nothing from it.
// A variable so that tests can stage their small layers.
var minStaged int64 = 64 << 10

// take stores one blob of the archive: a layer's tar into a staged layer
// when it can (see above), anything else into the content store.
func (l *loader) take(ctx context.Context, name string, r io.Reader, expected digest.Digest, size int64) (content.Info, error) {
	if !l.mayStage(ctx, name, expected, size) {
		return l.ingest(ctx, r, expected, size)
	}
	block := make([]byte, tarBlock)
	n, err := io.ReadFull(r, block)
	r = io.MultiReader(bytes.NewReader(block[:n]), r)
	if err != nil || !isTarHeader(block) {
		return l.ingest(ctx, r, expected, size)
	}
	return l.stage(ctx, r, expected, size)
}

// mayStage rules out what staging cannot help: a driver that needs the
// parent first, small files, and blobs the stores have already (as far as
// their names tell: a classic archive's "<hex>/layer.tar" is often named by
// its diffID, and when that layer is here, staging would only unpack it
// again to drop it).
func (l *loader) mayStage(ctx context.Context, name string, expected digest.Digest, size int64) bool {
	if !l.st.Layers.ConcurrentRegister() || size < minStaged {
		return false
	}
	if expected == "" {
		dir, base := path.Split(name)
		d := digest.NewDigestFromEncoded(digest.SHA256, strings.TrimSuffix(dir, "/"))
		return base != "layer.tar" || d.Validate() != nil || !l.canRebuild(ctx, d, false)
	}
	if l.canRebuild(ctx, expected, false) {
		return false
	}
	_, err := l.st.Content.Info(ctx, expected)
	return errdefs.IsNotFound(err)
}

func (l *loader) stage(ctx context.Context, r io.Reader, expected digest.Digest, size int64) (content.Info, error) {
	st, err := l.st.Layers.Stage(ctx, ctxReader{ctx, r}, layer.StageOptions{KeepTar: l.reread == nil})
	if err != nil {
		return content.Info{}, err
	}
	d, n := st.DiffID(), st.TarSize()
	if size >= 0 && n != size {
		st.Discard()
		return content.Info{}, errdefs.Invalid("blob %s: size mismatch: expected %d bytes, got %d", d, size, n)
	}
	if expected != "" && d != expected {
		st.Discard()
		return content.Info{}, errdefs.Invalid("blob digest mismatch: expected %s, actual %s", expected, d)
	}
	if st.TarSplit() {
		l.rebuilt[d] = true
	} else if err := l.keepTar(ctx, st); err != nil {
		st.Discard()
		return content.Info{}, err
	}
	if l.staged[d] != nil {
		st.Discard() // the same tar twice: one staged layer serves both
	} else {
		l.staged[d] = st
	}
	return content.Info{Digest: d, Size: n}, nil
}

// keepTar stores the blob of a staged layer that cannot rebuild its tar:
// read again from the archive when it can be, else from the copy the
// staging kept. Either way it is checked against the staged diffID.
func (l *loader) keepTar(ctx context.Context, st *layer.Staged) error {
	open := st.OpenTar
	if l.reread != nil {
		open = l.reread
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := l.st.Content.Ingest(ctx, rc, st.DiffID(), st.TarSize()); err != nil {
		return fmt.Errorf("storing layer blob %s: %w", st.DiffID(), err)
	}
	return nil
}

// commitStaged commits the staged layers of an image under their chain
// IDs, so that unpacking finds them present.
func (l *loader) commitStaged(ctx context.Context, p *plan) error {
	chain := image.ChainIDs(p.diffIDs)
	for i, desc := range p.layers {
		st := l.staged[desc.Digest]
		if st == nil || desc.Digest != p.diffIDs[i] {
			continue
		}
		var parent digest.Digest
		if i > 0 {
			parent = chain[i-1]
		}
		_, err := st.Commit(ctx, parent)
		st.Discard() // a no-op unless the layer was there already
		delete(l.staged, desc.Digest)
		if err != nil {
			return fmt.Errorf("layer %s: %w", p.diffIDs[i], err)
		}
	}
	return nil
}

// discardStaged drops the staged layers no image used (defer-safe).
func (l *loader) discardStaged() {
	for d, st := range l.staged {
		st.Discard()
		delete(l.staged, d)
	}
}

const tarBlock = 512

// isTarHeader reports whether block is a tar header with a valid checksum
// (the sum of its bytes, the checksum field counted as spaces; old writers
// summed signed bytes). JSON documents and compressed streams never are.
func isTarHeader(block []byte) bool {
	if len(block) < tarBlock {
		return false
	}
	field := bytes.Trim(block[148:156], " \x00")
	want, err := strconv.ParseInt(string(field), 8, 64)
	if err != nil || len(field) == 0 {
		return false
	}
	var unsigned, signed int64
	for i, b := range block[:tarBlock] {
		if i >= 148 && i < 156 {
			b = ' '
		}
		unsigned += int64(b)
		signed += int64(int8(b))
	}
	return want == unsigned || want == signed
}

// archiveFile is an archive that Load can read again: a regular file (or
// any io.ReaderAt and io.Seeker), read from base on. Staging then keeps no
// copy of a layer's tar: in the rare case that the tar must be stored as a
// blob, it is read again from the archive.
type archiveFile struct {
	ra   io.ReaderAt
	base int64
}

// rereadable returns r as an archiveFile, or nil when it cannot be read
// again (a pipe, a socket).
func rereadable(r io.Reader) *archiveFile {
	ra, ok := r.(io.ReaderAt)
	sk, ok2 := r.(io.Seeker)
	if !ok || !ok2 {
		return nil
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
	}
	base, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	return &archiveFile{ra: ra, base: base}
}

// section returns a function that reads size bytes at off of the
// (uncompressed) archive again; nil if a is.
func (a *archiveFile) section(off, size int64) func() (io.ReadCloser, error) {
	if a == nil {
		return nil
	}
	return func() (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(a.ra, a.base+off, size)), nil
	}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
