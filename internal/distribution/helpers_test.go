package distribution

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
	"github.com/strata-containers/strata/internal/reference"
	"github.com/strata-containers/strata/internal/registry"
	"github.com/strata-containers/strata/internal/unpack"
)

// openStores opens empty stores in a temporary directory.
func openStores(t *testing.T) Stores {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the layer store keeps file owners")
	}
	dir := t.TempDir()
	cs, err := content.Open(filepath.Join(dir, "content"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := layer.Open(context.Background(), layer.Options{Root: filepath.Join(dir, "layers")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close() })
	is, err := image.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { is.Close() })
	return Stores{Content: cs, Layers: ls, Images: is}
}

// testLayer is one layer: file name -> contents.
type testLayer map[string]string

// makeImage builds an image of gzip layers in st, tags it name and
// returns it.
func makeImage(t *testing.T, st Stores, name string, layers ...testLayer) image.Image {
	t.Helper()
	return makeImageComp(t, st, name, nil, layers...)
}

// makeImageComp is makeImage with layer i compressed as comps[i]: "gzip"
// (also the default), "zstd" or "none".
func makeImageComp(t *testing.T, st Stores, name string, comps []string, layers ...testLayer) image.Image {
	t.Helper()
	ctx := context.Background()
	var descs []ocispec.Descriptor
	var diffIDs []digest.Digest
	var parent digest.Digest
	for i, l := range layers {
		raw := tarOf(t, l)
		diffID := digest.FromBytes(raw)
		comp := "gzip"
		if i < len(comps) {
			comp = comps[i]
		}
		blob, mediaType := compress(t, raw, comp)
		info, err := st.Content.Ingest(ctx, bytes.NewReader(blob), "", -1)
		if err != nil {
			t.Fatal(err)
		}
		li, err := unpack.Layer(ctx, st.Layers, parent, diffID, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		parent = li.ChainID
		descs = append(descs, ocispec.Descriptor{MediaType: mediaType, Digest: info.Digest, Size: info.Size})
		diffIDs = append(diffIDs, diffID)
	}
	now := time.Now().UTC()
	cfg := ocispec.Image{Created: &now, Platform: HostPlatform(), RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
	cdesc := ingestJSON(t, st, ocispec.MediaTypeImageConfig, cfg)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cdesc, Layers: descs}
	m.SchemaVersion = 2
	mdesc := ingestJSON(t, st, ocispec.MediaTypeImageManifest, m)
	if err := st.Images.Put(ctx, image.Record{ID: cdesc.Digest, Manifest: mdesc}); err != nil {
		t.Fatal(err)
	}
	ref, err := reference.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Images.Tag(ctx, ref, cdesc.Digest); err != nil {
		t.Fatal(err)
	}
	img, err := st.Images.Resolve(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func compress(t *testing.T, raw []byte, comp string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	switch comp {
	case "none":
		return raw, ocispec.MediaTypeImageLayer
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(raw)
		zw.Close()
		return buf.Bytes(), ocispec.MediaTypeImageLayerZstd
	}
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes(), ocispec.MediaTypeImageLayerGzip
}

func ingestJSON(t *testing.T, st Stores, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Content.Ingest(context.Background(), bytes.NewReader(data), digest.FromBytes(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: info.Digest, Size: info.Size}
}

func tarOf(t *testing.T, files testLayer) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := files[name]
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

// push pushes img as name to host with client.
func push(t *testing.T, st Stores, c *registry.Client, img image.Image, name string, opts PushOptions) Pushed {
	t.Helper()
	ref, err := reference.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := c.Repository(context.Background(), ref, true, opts.MountFrom...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Push(context.Background(), st, repo, img, ref, opts)
	if err != nil {
		t.Fatalf("push %s: %v", name, err)
	}
	return p
}

// pull pulls name with client into st.
func pull(st Stores, c *registry.Client, name string, opts PullOptions) (Pulled, error) {
	ref, err := reference.Parse(name)
	if err != nil {
		return Pulled{}, err
	}
	repo, err := c.Repository(context.Background(), ref, false)
	if err != nil {
		return Pulled{}, err
	}
	return Pull(context.Background(), st, repo, ref, opts)
}

// layerFile reads a file from the top layer of a pulled image's chain.
func layerFile(t *testing.T, st Stores, chainID digest.Digest, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(st.Layers.Dir(chainID), name))
	if err != nil {
		t.Fatalf("reading %s from layer %s: %v", name, chainID, err)
	}
	return string(data)
}
