package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/config"
	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/testutil"
)

// newEngine opens an engine on a fresh root. The layer store unpacks with
// real ownership and device nodes, so it needs root.
func newEngine(t testing.TB) *Engine {
	t.Helper()
	testutil.RequireRoot(t)
	cfg := config.Default()
	cfg.Root, cfg.RunRoot = t.TempDir(), t.TempDir()
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// rootfsTar is a small root filesystem whose content depends on seed, so
// that different seeds give different layers and equal seeds equal ones.
func rootfsTar(t testing.TB, seed string, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		data []byte
	}{
		{"etc/seed", []byte(seed + "\n")},
		{"data/blob", bytes.Repeat([]byte(seed), size/max(1, len(seed)))},
	}
	for _, dir := range []string{"etc/", "data/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importImage imports a rootfs made from seed, tagged ref ("" for none).
func importImage(t testing.TB, e *Engine, seed, ref string, changes ...string) digest.Digest {
	t.Helper()
	id, err := e.ImageImport(context.Background(), bytes.NewReader(rootfsTar(t, seed, 4096)),
		ImportOptions{Ref: ref, Changes: changes})
	if err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	return id
}

// setParent records parent as id's parent, as a build or commit would.
func setParent(t *testing.T, e *Engine, id, parent digest.Digest) {
	t.Helper()
	img, err := e.images.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	img.Parent = parent
	if err := e.images.Put(context.Background(), img.Record); err != nil {
		t.Fatal(err)
	}
}

// listed returns "repo:tag" (or "<none>:<none>@id") of every listed image.
func listed(t *testing.T, e *Engine, opts ImageListOptions) []string {
	t.Helper()
	imgs, err := e.ImageList(context.Background(), opts)
	if err != nil {
		t.Fatalf("ImageList: %v", err)
	}
	var out []string
	for _, img := range imgs {
		for _, tag := range img.RepoTags {
			if tag == "<none>:<none>" {
				tag += "@" + img.ID
			}
			out = append(out, tag)
		}
	}
	slices.Sort(out)
	return out
}

// blobCount and layerCount tell what the stores hold.
func blobCount(t *testing.T, e *Engine) int {
	t.Helper()
	n := 0
	if err := e.content.Walk(context.Background(), func(content.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func layerCount(t *testing.T, e *Engine) int {
	t.Helper()
	ls, err := e.layers.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ls)
}
