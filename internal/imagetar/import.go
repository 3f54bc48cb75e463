package imagetar

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
)

// ImportOptions tunes Import.
type ImportOptions struct {
	// Changes are Dockerfile instructions applied to the config; see ApplyChanges.
	Changes []string
	// Message becomes the history entry's comment.
	Message string
	// Platform of the image; the host's when OS is empty.
	Platform ocispec.Platform
}

// Import makes a one-layer image from a root filesystem tarball (possibly
// compressed), like `docker import`, and returns its ID. The tarball is read
// once, unpacked into the layer store; its uncompressed form is stored as
// the layer blob only if the layer store cannot rebuild it. The image gets
// no name; the caller tags it.
func Import(ctx context.Context, st Stores, r io.Reader, opts ImportOptions) (digest.Digest, error) {
	var cfg image.Config
	if err := ApplyChanges(&cfg.Config.ImageConfig, opts.Changes); err != nil {
		return "", err
	}
	diffID, size, err := importLayer(ctx, st, r)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	cfg.Created = &now
	cfg.Platform = opts.Platform
	if cfg.OS == "" {
		cfg.Platform = ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH, Variant: hostVariant()}
	}
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}
	cfg.History = []ocispec.History{{Created: &now, Comment: opts.Message}}
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding config: %w", err)
	}
	config, err := st.Content.Ingest(ctx, strings.NewReader(string(data)), digest.FromBytes(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("storing config: %w", err)
	}
	cdesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: config.Digest, Size: config.Size}
	mdata, mdesc, err := buildManifest(cdesc, tarLayers([]digest.Digest{diffID}, []int64{size}))
	if err != nil {
		return "", err
	}
	if _, err := st.Content.Ingest(ctx, strings.NewReader(string(mdata)), mdesc.Digest, mdesc.Size); err != nil {
		return "", fmt.Errorf("storing manifest: %w", err)
	}
	if _, err := record(ctx, st.Images, config.Digest, mdesc, nil); err != nil {
		return "", err
	}
	return config.Digest, nil
}

// importLayer unpacks the tarball as a base layer and, from the same read,
// stores its uncompressed form as a blob (whose digest is the diffID) when
// the layer store cannot rebuild it. It returns the diffID and the size.
func importLayer(ctx context.Context, st Stores, r io.Reader) (digest.Digest, int64, error) {
	dr, _, err := archive.Decompress(r)
	if err != nil {
		return "", 0, errdefs.Invalid("reading tarball: %w", err)
	}
	defer dr.Close()
	w, err := st.Content.Writer(ctx, "", -1)
	if err != nil {
		return "", 0, err
	}
	defer w.Close()
	cw := &countWriter{w: w}
	info, err := st.Layers.Register(ctx, "", "", io.TeeReader(dr, cw))
	if err != nil {
		return "", 0, fmt.Errorf("importing tarball: %w", err)
	}
	// The layer store may stop at the tar's end marker; the blob must hold
	// every byte, or its digest would not be the diffID.
	if _, err := io.Copy(cw, dr); err != nil {
		return "", 0, errdefs.Invalid("reading tarball: %w", err)
	}
	if d := w.Digest(); d != info.DiffID {
		return "", 0, fmt.Errorf("importing tarball: layer store computed diffID %s, blob is %s", info.DiffID, d)
	}
	if info.TarSplit {
		return info.DiffID, cw.n, nil // the layer store rebuilds the blob; w discards it
	}
	blob, err := w.Commit(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("storing layer: %w", err)
	}
	return blob.Digest, blob.Size, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// hostVariant is the variant Docker records for images made here.
func hostVariant() string {
	switch runtime.GOARCH {
	case "arm64":
		return "v8"
	case "arm":
		return "v7"
	}
	return ""
}
