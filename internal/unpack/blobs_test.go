package unpack

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
)

// TestLayerBlobs reads an uncompressed layer blob that is not stored: it is
// rebuilt from the layer, and a compressed one is never rebuilt.
func TestLayerBlobs(t *testing.T) {
	ctx := context.Background()
	src, ls := openStores(t, "")
	tarball := tarOf(t, "f", "rebuilt")
	diffID := digest.FromBytes(tarball)
	if _, err := Layer(ctx, ls, "", diffID, bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	blobs := LayerBlobs{Content: src.Store, Layers: ls}
	plain := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: diffID, Size: int64(len(tarball))}
	if !Uncompressed(plain, diffID) {
		t.Fatal("an uncompressed layer descriptor is not Uncompressed")
	}
	for _, chainHint := range []digest.Digest{diffID, "", digest.FromString("not a layer")} {
		rc, size, err := blobs.Open(ctx, plain, diffID, chainHint)
		if err != nil {
			t.Fatalf("hint %q: %v", chainHint, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, tarball) || size != int64(len(tarball)) {
			t.Fatalf("hint %q: rebuilt %d bytes (size %d), %v; want the %d bytes of the tar", chainHint, len(got), size, err, len(tarball))
		}
		if n, err := blobs.Stat(ctx, plain, diffID, chainHint); err != nil || n != int64(len(tarball)) {
			t.Fatalf("Stat: %d, %v", n, err)
		}
	}
	compressed := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(gz(t, tarball))}
	if _, _, err := blobs.Open(ctx, compressed, diffID, diffID); !errdefs.IsNotFound(err) {
		t.Fatalf("a missing compressed blob: %v, want not found", err)
	}
}

// TestLayersRebuildsMissingBlob registers a layer on a new parent when its
// blob is not stored but the same layer exists on another parent.
func TestLayersRebuildsMissingBlob(t *testing.T) {
	for _, driver := range []string{"overlay", "vfs"} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			src, ls := openStores(t, driver)
			shared, other := tarOf(t, "shared", "s"), tarOf(t, "other", "o")
			sharedID, otherID := digest.FromBytes(shared), digest.FromBytes(other)
			if _, err := Layer(ctx, ls, "", sharedID, bytes.NewReader(shared)); err != nil {
				t.Fatal(err)
			}
			info, err := src.Ingest(ctx, bytes.NewReader(other), otherID, int64(len(other)))
			if err != nil {
				t.Fatal(err)
			}
			descs := []ocispec.Descriptor{
				{MediaType: ocispec.MediaTypeImageLayer, Digest: info.Digest, Size: info.Size},
				{MediaType: ocispec.MediaTypeImageLayer, Digest: sharedID, Size: int64(len(shared))},
			}
			top, err := Layers(ctx, src, ls, descs, []digest.Digest{otherID, sharedID})
			if err != nil {
				t.Fatalf("Layers: %v", err)
			}
			if top != layer.ChainID(otherID, sharedID) {
				t.Fatalf("top %s", top)
			}
			if data, err := os.ReadFile(filepath.Join(ls.Dir(top), "shared")); err != nil || string(data) != "s" {
				t.Fatalf("shared file on the new parent: %q, %v", data, err)
			}
		})
	}
}
