package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
)

// writableLayer makes a writable layer on an imported image and returns
// its id and parent chain; its directory is filled by the caller, as a
// container's writes would.
func writableLayer(t testing.TB, e *Engine) (string, digest.Digest) {
	t.Helper()
	ctx := context.Background()
	id := importImage(t, e, "base", "")
	d, err := e.readImage(ctx, mustImage(t, e, id))
	if err != nil {
		t.Fatal(err)
	}
	parent := d.chainIDs[len(d.chainIDs)-1]
	rw := fmt.Sprintf("rw%d", rand.Uint64())
	if _, err := e.layers.CreateRW(ctx, rw, parent); err != nil {
		t.Fatal(err)
	}
	return rw, parent
}

func mustImage(t testing.TB, e *Engine, id digest.Digest) image.Image {
	t.Helper()
	img, err := e.images.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestCommitLayer: the writable layer's files become a registered layer on
// the parent chain, stored as a directory (no blob), and the parent's
// directory is the same, not a copy.
func TestCommitLayer(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	rw, parent := writableLayer(t, e)
	if err := os.WriteFile(filepath.Join(e.layers.RWDir(rw), "hello"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	blobs := blobCount(t, e)
	cl, err := e.commitLayer(ctx, rw, parent, commitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cl.ChainID != layer.ChainID(parent, cl.DiffID) || cl.Size == 0 {
		t.Fatalf("committed %+v on %s", cl, parent)
	}
	info, err := e.layers.Get(ctx, cl.ChainID)
	if err != nil || info.Parent != parent || !info.TarSplit {
		t.Fatalf("layer %+v, %v", info, err)
	}
	if data, err := os.ReadFile(filepath.Join(e.layers.Dir(cl.ChainID), "hello")); err != nil || string(data) != "hi\n" {
		t.Errorf("committed layer's hello: %q, %v", data, err)
	}
	if n := blobCount(t, e); n != blobs {
		t.Errorf("blobs %d after commit, %d before: the layer was stored twice", n, blobs)
	}
}

// BenchmarkCommitLayer commits a writable layer holding 100 MB in 1,000
// files; every round commits new content (the first byte differs), so no
// round finds its layer already registered.
func BenchmarkCommitLayer(b *testing.B) {
	e := newEngine(b)
	ctx := context.Background()
	rw, parent := writableLayer(b, e)
	dir := filepath.Join(e.layers.RWDir(rw), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 100<<10)
	for i := range 1000 {
		for j := range buf {
			buf[j] = byte(rand.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(100 << 20)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		os.WriteFile(filepath.Join(dir, "round"), []byte(fmt.Sprint(i)), 0o644)
		b.StartTimer()
		if _, err := e.commitLayer(ctx, rw, parent, commitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
