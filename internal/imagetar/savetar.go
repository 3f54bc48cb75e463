package imagetar

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/unpack"
)

// copyBuffer is the chunk in which layer bytes move from blob to archive.
const copyBuffer = 1 << 20

// saver writes the entries of one archive. Every entry has the same owner
// (0:0), mode and time, so the bytes depend only on what is saved.
type saver struct {
	st         Stores
	tw         *tar.Writer
	mtime      time.Time
	written    map[digest.Digest]bool  // configs and manifests in the archive
	layerSizes map[digest.Digest]int64 // layers in the archive, by diffID
	dirs       map[string]bool
}

// image writes an image's layers (those not written yet), config and
// manifest, and returns the manifest's descriptor.
func (s *saver) image(ctx context.Context, img *savedImage) (ocispec.Descriptor, error) {
	sizes := make([]int64, len(img.diffIDs))
	chain := image.ChainIDs(img.diffIDs)
	for i, diffID := range img.diffIDs {
		size, err := s.layer(ctx, img.blobs[i], diffID, chain[i])
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("saving image %s: %w", img.id, err)
		}
		sizes[i] = size
	}
	config := ocispec.Descriptor{Digest: digest.FromBytes(img.config), Size: int64(len(img.config))}
	data, mdesc, err := buildManifest(config, tarLayers(img.diffIDs, sizes))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := s.blob(config.Digest, img.config); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := s.blob(mdesc.Digest, data); err != nil {
		return ocispec.Descriptor{}, err
	}
	return mdesc, nil
}

// layer writes the uncompressed form of a layer blob as blobs/<diffID> and
// returns its size. A tar header needs the size first: an uncompressed blob
// has it (stored, or rebuilt by the layer store), a compressed one is
// decompressed twice, once to measure (and verify, before anything is
// written) and once to copy. No temporary file.
func (s *saver) layer(ctx context.Context, blob ocispec.Descriptor, diffID, chainID digest.Digest) (int64, error) {
	if size, ok := s.layerSizes[diffID]; ok {
		return size, nil
	}
	blobs := unpack.LayerBlobs{Content: s.st.Content, Layers: s.st.Layers}
	rc, size, err := blobs.Open(ctx, blob, diffID, chainID)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return 0, errdefs.DataLoss("layer %s: blob %s is missing from the content store", diffID, blob.Digest)
		}
		return 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	if blob.Digest != diffID {
		rc.Close()
		open := func() (io.ReadCloser, error) {
			rc, _, err := blobs.Open(ctx, blob, diffID, chainID)
			if err != nil {
				return nil, err
			}
			return decompressed(rc)
		}
		if size, err = s.measure(ctx, open, diffID); err != nil {
			return 0, err
		}
		if rc, err = open(); err != nil {
			return 0, fmt.Errorf("layer %s: %w", diffID, err)
		}
	}
	defer rc.Close()
	if err := s.copyLayer(ctx, rc, diffID, size); err != nil {
		return 0, err
	}
	s.layerSizes[diffID] = size
	return size, nil
}

// decompressed reads rc decompressed; closing it closes rc.
func decompressed(rc io.ReadCloser) (io.ReadCloser, error) {
	dr, _, err := archive.Decompress(rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return readCloser{Reader: dr, close: func() error { dr.Close(); return rc.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// measure decompresses a layer, checking its diffID, and returns its size.
func (s *saver) measure(ctx context.Context, open func() (io.ReadCloser, error), diffID digest.Digest) (int64, error) {
	rc, err := open()
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	defer rc.Close()
	v := diffID.Verifier()
	n, err := io.CopyBuffer(v, ctxReader{ctx, rc}, make([]byte, copyBuffer))
	if err != nil {
		return 0, fmt.Errorf("layer %s: decompressing: %w", diffID, err)
	}
	if !v.Verified() {
		return 0, errdefs.DataLoss("layer %s: stored blob does not decompress to its diff_id", diffID)
	}
	return n, nil
}

// copyLayer writes the layer entry from rc, hashing as it goes: the digest
// is checked while writing, so corrupted content fails the save.
func (s *saver) copyLayer(ctx context.Context, rc io.Reader, diffID digest.Digest, size int64) error {
	if err := s.header(blobPath(diffID), size); err != nil {
		return err
	}
	v := diffID.Verifier()
	n, err := io.CopyBuffer(s.tw, io.TeeReader(ctxReader{ctx, rc}, v), make([]byte, copyBuffer))
	if err != nil {
		return fmt.Errorf("layer %s: writing: %w", diffID, err)
	}
	if n != size || !v.Verified() {
		return errdefs.DataLoss("layer %s: stored blob does not match its diff_id", diffID)
	}
	return nil
}

func (s *saver) blob(d digest.Digest, data []byte) error {
	if s.written[d] {
		return nil
	}
	s.written[d] = true
	return s.file(blobPath(d), data)
}

func (s *saver) file(name string, data []byte) error {
	if err := s.header(name, int64(len(data))); err != nil {
		return err
	}
	if _, err := io.Copy(s.tw, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// header writes a regular file's header, preceded by its parent
// directories the first time they are needed.
func (s *saver) header(name string, size int64) error {
	if err := s.dir(path.Dir(name)); err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: s.mtime}
	if err := s.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

func (s *saver) dir(name string) error {
	if name == "." || s.dirs[name] {
		return nil
	}
	if err := s.dir(path.Dir(name)); err != nil {
		return err
	}
	s.dirs[name] = true
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: s.mtime}
	if err := s.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// ctxReader makes a long copy stop when the context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
