package unpack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
	"github.com/strata-containers/strata/internal/testutil"
)

// countingSource counts the blobs opened through it.
type countingSource struct {
	*content.Store
	opened atomic.Int32
}

func (s *countingSource) Open(ctx context.Context, d digest.Digest) (content.ReadSeekCloser, error) {
	s.opened.Add(1)
	return s.Store.Open(ctx, d)
}

func openStores(t *testing.T, driver string) (*countingSource, *layer.Store) {
	t.Helper()
	testutil.RequireRoot(t)
	if driver == "overlay" {
		testutil.RequireOverlay(t)
	}
	dir := t.TempDir()
	cs, err := content.Open(filepath.Join(dir, "content"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := layer.Open(context.Background(), layer.Options{Root: filepath.Join(dir, "layers"), Driver: driver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close() })
	return &countingSource{Store: cs}, ls
}

func tarOf(t testing.TB, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1e9, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(body))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll(b, nil)
}

// chain stores three layers (plain, gzip, zstd, with media types that lie:
// compression is sniffed) and returns their descriptors and diffIDs.
func chain(t *testing.T, cs *content.Store) ([]ocispec.Descriptor, []digest.Digest) {
	t.Helper()
	tars := [][]byte{tarOf(t, "a", "1"), tarOf(t, "b", "2"), tarOf(t, "c", "3")}
	blobs := [][]byte{tars[0], gz(t, tars[1]), zst(t, tars[2])}
	var descs []ocispec.Descriptor
	var diffIDs []digest.Digest
	for i, b := range blobs {
		info, err := cs.Ingest(context.Background(), bytes.NewReader(b), "", int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		descs = append(descs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: info.Digest, Size: info.Size})
		diffIDs = append(diffIDs, digest.FromBytes(tars[i]))
	}
	return descs, diffIDs
}

func TestLayers(t *testing.T) {
	for _, driver := range []string{"overlay", "vfs"} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			src, ls := openStores(t, driver)
			descs, diffIDs := chain(t, src.Store)
			top, err := Layers(ctx, src, ls, descs, diffIDs)
			if err != nil {
				t.Fatalf("Layers: %v", err)
			}
			want := layer.ChainID(layer.ChainID(diffIDs[0], diffIDs[1]), diffIDs[2])
			if top != want {
				t.Fatalf("top chain ID %s, want %s", top, want)
			}
			for name, id := range map[string]digest.Digest{"a": diffIDs[0], "c": top} {
				if data, err := os.ReadFile(filepath.Join(ls.Dir(id), name)); err != nil {
					t.Errorf("layer %s: %v", id, err)
				} else if len(data) != 1 {
					t.Errorf("layer %s: %s holds %q", id, name, data)
				}
			}
			src.opened.Store(0)
			if _, err := Layers(ctx, src, ls, descs, diffIDs); err != nil {
				t.Fatalf("Layers again: %v", err)
			}
			if n := src.opened.Load(); n != 0 {
				t.Errorf("registering present layers opened %d blobs, want 0", n)
			}
		})
	}
}

func TestLayersErrors(t *testing.T) {
	ctx := context.Background()
	src, ls := openStores(t, "")
	descs, diffIDs := chain(t, src.Store)

	if _, err := Layers(ctx, src, ls, descs, diffIDs[:2]); !errdefs.IsInvalid(err) {
		t.Errorf("count mismatch: %v, want errdefs.ErrInvalid", err)
	}
	wrong := []digest.Digest{diffIDs[0], diffIDs[2], diffIDs[1]}
	if _, err := Layers(ctx, src, ls, descs, wrong); !errdefs.IsInvalid(err) {
		t.Errorf("diffID mismatch: %v, want errdefs.ErrInvalid", err)
	}
	if _, err := ls.Get(ctx, layer.ChainID(diffIDs[0], diffIDs[2])); !errdefs.IsNotFound(err) {
		t.Errorf("a layer failing its diffID was stored: %v", err)
	}
	missing := []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromString("absent")}}
	if _, err := Layers(ctx, src, ls, missing, []digest.Digest{digest.FromString("x")}); !errdefs.IsNotFound(err) {
		t.Errorf("missing blob: %v, want errdefs.ErrNotFound", err)
	}
	if top, err := Layers(ctx, src, ls, nil, nil); err != nil || top != "" {
		t.Errorf("no layers: %q, %v", top, err)
	}
}

// TestLayerStream feeds a layer from a plain reader, as a download would.
func TestLayerStream(t *testing.T) {
	_, ls := openStores(t, "")
	tr := tarOf(t, "streamed", "yes")
	info, err := Layer(context.Background(), ls, "", digest.FromBytes(tr), bytes.NewReader(gz(t, tr)))
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(ls.Dir(info.ChainID), "streamed")); err != nil || string(data) != "yes" {
		t.Fatalf("streamed layer: %q, %v", data, err)
	}
}
