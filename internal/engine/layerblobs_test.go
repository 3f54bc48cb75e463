package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/content"
)

// TestLayersStoredOnce: after an import and after a load of a
// docker-archive, each layer is stored once, in the layer store; save
// rebuilds the same archive from it, and the system check verifies the
// rebuilt layers, so that damage to a layer's files is reported.
func TestLayersStoredOnce(t *testing.T) {
	ctx := context.Background()
	src := newEngine(t)
	id := importImage(t, src, "once", "once:1")
	if n := blobCount(t, src); n != 2 {
		t.Errorf("import stored %d blobs, want 2 (config, manifest): the layer is in the layer store", n)
	}
	var first bytes.Buffer
	if err := src.ImageSave(ctx, &first, []string{"once:1"}); err != nil {
		t.Fatal(err)
	}

	e := newEngine(t)
	if _, err := e.ImageLoad(ctx, LoadOptions{Input: bytes.NewReader(first.Bytes())}); err != nil {
		t.Fatal(err)
	}
	chain := chainOf(t, e, id)
	err := e.content.Walk(ctx, func(info content.Info) error {
		if info.Digest == chain { // a one-layer image: its chain ID is its diffID
			t.Errorf("the uncompressed layer blob %s is stored", info.Digest)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := e.ImageSave(ctx, &second, []string{"once:1"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("save -> load -> save is not byte-identical")
	}
	if p, err := e.SystemCheck(ctx); err != nil || len(p) != 0 {
		t.Fatalf("healthy store: %v, %v", p, err)
	}

	flipFirstByte(t, filepath.Join(e.layers.Dir(chain), "etc/seed"))
	problems, err := e.SystemCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Object != chain || !strings.Contains(problems[0].What, "damaged") {
		t.Fatalf("problems after damaging layer %s: %v", chain, problems)
	}
}

func flipFirstByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
