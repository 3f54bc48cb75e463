package imagetar

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
)

// withStaging makes Load stage every layer of the test's archives, however
// small.
func withStaging(t *testing.T) {
	old := minStaged
	minStaged = 0
	t.Cleanup(func() { minStaged = old })
}

// TestLoadStaged runs the load tests again with every layer unpacked
// straight from the archive into a staged layer.
func TestLoadStaged(t *testing.T) {
	withStaging(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"classic", TestLoadClassic},
		{"oci layout", TestLoadOCILayout},
		{"classic dir", TestLoadClassicDir},
		{"docker 25", TestLoadDocker25},
		{"bad input", TestLoadBadInput},
		{"layers stored once", TestLoadStoresLayersOnce},
		{"blobs it cannot rebuild", TestLoadKeepsBlobsItCannotRebuild},
		{"concurrent loads", TestConcurrentLoadsShareLayers},
	} {
		t.Run(tc.name, tc.test)
	}
}

// stagingStores is newStores that also returns the layer store's tmp
// directories, and skips unless the driver can stage (overlay).
func stagingStores(t *testing.T) (Stores, string) {
	t.Helper()
	dir := t.TempDir()
	st := newStoresIn(t, dir)
	if !st.Layers.ConcurrentRegister() {
		t.Skip("needs overlay: only a stacking layer driver stages layers")
	}
	return st, filepath.Join(dir, "layers", "*", "tmp", "*")
}

func TestLoadStagedLeavesNothing(t *testing.T) {
	withStaging(t)
	ctx := context.Background()
	a, _ := twoImages(t)
	stray := layerTar(t, map[string]string{"not/a/layer": "of any image\n"})
	for _, tc := range []struct {
		name    string
		entries func() []entry
		invalid bool
	}{
		{"stray tar", func() []entry { return append(classicEntries(t, a), entry{name: "stray/layer.tar", data: stray}) }, false},
		{"misnamed blob", func() []entry {
			return append(ociEntries(t, nil, a), entry{name: "blobs/sha256/" + a.diffIDs[0].Encoded(), data: stray})
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, tmp := stagingStores(t)
			_, err := Load(ctx, st, bytes.NewReader(tarOf(t, tc.entries())))
			switch {
			case tc.invalid && !errdefs.IsInvalid(err):
				t.Fatalf("load: %v; want an invalid-argument error", err)
			case !tc.invalid && err != nil:
				t.Fatal(err)
			case !tc.invalid:
				checkImage(t, st, "app", a)
				checkNoLayerBlobs(t, st, a)
			}
			left, err := filepath.Glob(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) > 0 {
				t.Fatalf("left in the layer store's tmp: %v", left)
			}
		})
	}
}

func TestStagedKeepsTarItCannotRebuild(t *testing.T) {
	st, _ := stagingStores(t)
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, body := range []string{"first\n", "second\n"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "twice", Mode: 0o644, Size: int64(len(body))})
		io.WriteString(tw, body)
	}
	tw.Close()
	staged, err := st.Layers.Stage(ctx, bytes.NewReader(buf.Bytes()), layer.StageOptions{KeepTar: true})
	if err != nil {
		t.Fatal(err)
	}
	defer staged.Discard()
	if staged.TarSplit() {
		t.Fatal("a tar writing one path twice was staged as rebuildable")
	}
	rc, err := staged.OpenTar()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), buf.Bytes()) {
		t.Fatal("the kept copy differs from the tar")
	}
	info, err := staged.Commit(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.DiffID != staged.DiffID() || info.TarSplit {
		t.Fatalf("committed %+v; want diffID %s without tar-split", info, staged.DiffID())
	}
	if _, err := os.Stat(filepath.Join(st.Layers.Dir(info.ChainID), "..", "tar")); err == nil {
		t.Fatal("the copy of the tar was committed with the layer")
	}
	if _, err := staged.Commit(ctx, ""); !errdefs.IsNotFound(err) {
		t.Fatalf("second commit: %v; want not found", err)
	}
}

// TestLoadStagedKeepsBlobs loads a layer whose tar the layer store cannot
// rebuild, from an archive that can be read again (the blob is read from
// it again) and from a stream (the staging keeps a copy).
func TestLoadStagedKeepsBlobs(t *testing.T) {
	withStaging(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, body := range []string{"first\n", "second\n"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "twice", Mode: 0o644, Size: int64(len(body))})
		io.WriteString(tw, body)
	}
	tw.Close()
	fx := newFixture(t, "twice", []string{"twice:1"}, layerTar(t, map[string]string{"base": "b"}), buf.Bytes())
	arch := tarOf(t, classicEntries(t, fx))
	for name, r := range map[string]func() io.Reader{
		"file":   func() io.Reader { return bytes.NewReader(arch) },
		"stream": func() io.Reader { return struct{ io.Reader }{bytes.NewReader(arch)} },
	} {
		t.Run(name, func(t *testing.T) {
			st, tmp := stagingStores(t)
			if _, err := Load(context.Background(), st, r()); err != nil {
				t.Fatal(err)
			}
			stored := storedBlobs(t, st)
			if stored[fx.diffIDs[0]] || !stored[fx.diffIDs[1]] {
				t.Fatalf("stored base %v, stored twice-written layer %v; want false, true", stored[fx.diffIDs[0]], stored[fx.diffIDs[1]])
			}
			if img, err := st.Images.Resolve(context.Background(), "twice:1"); err != nil || img.ID != fx.id {
				t.Fatalf("resolving twice:1: %+v, %v", img, err)
			}
			if left, _ := filepath.Glob(tmp); len(left) > 0 {
				t.Fatalf("left in the layer store's tmp: %v", left)
			}
		})
	}
}
