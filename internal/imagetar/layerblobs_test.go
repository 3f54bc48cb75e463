package imagetar

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
)

// storedBlobs lists the digests in the content store.
func storedBlobs(t testing.TB, st Stores) map[digest.Digest]bool {
	t.Helper()
	out := map[digest.Digest]bool{}
	err := st.Content.Walk(context.Background(), func(info content.Info) error {
		out[info.Digest] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkNoLayerBlobs fails if any uncompressed layer of fxs is stored.
func checkNoLayerBlobs(t testing.TB, st Stores, fxs ...fixture) {
	t.Helper()
	stored := storedBlobs(t, st)
	for _, fx := range fxs {
		for _, d := range fx.diffIDs {
			if stored[d] {
				t.Errorf("uncompressed layer blob %s is stored", d)
			}
		}
	}
}

// TestLoadStoresLayersOnce loads a docker-archive: afterwards the layers
// are in the layer store only, saving gives the same bytes as from a store
// that kept them, and loading an archive whose layers are present (the
// classic layout and Docker >= 25's, which names blobs by digest) stores
// none of them either.
func TestLoadStoresLayersOnce(t *testing.T) {
	ctx := context.Background()
	st, a, b := loadedStores(t, false)
	checkNoLayerBlobs(t, st, a, b)
	for _, fx := range []fixture{a, b} {
		for i := range fx.layers {
			chain := fixture{diffIDs: fx.diffIDs[:i+1]}.chainID()
			if info, err := st.Layers.Get(ctx, chain); err != nil || !info.TarSplit {
				t.Errorf("layer %d of %s: %+v, %v; want it with tar-split metadata", i, fx.id, info, err)
			}
		}
	}
	saved := saveBoth(t, st, a, b)
	kept, _, _ := loadedStores(t, true) // gzip layers: the blobs are kept
	if !bytes.Equal(saved, saveBoth(t, kept, a, b)) {
		t.Fatal("saving rebuilt layers differs from saving stored ones")
	}

	for name, arch := range map[string][]byte{
		"classic":    tarOf(t, classicEntries(t, a, b)),
		"docker 25+": saved,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(ctx, st, bytes.NewReader(arch)); err != nil {
				t.Fatalf("loading again: %v", err)
			}
			checkNoLayerBlobs(t, st, a, b)
			checkImage(t, st, "app", a)
			if again := saveBoth(t, st, a, b); !bytes.Equal(saved, again) {
				t.Fatal("save after loading again differs")
			}
		})
	}
}

// TestLoadKeepsBlobsItCannotRebuild: a layer whose tar writes one path twice
// cannot be rebuilt from its directory, so its blob stays, and save still
// writes the original bytes.
func TestLoadKeepsBlobsItCannotRebuild(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, body := range []string{"first\n", "second\n"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "twice", Mode: 0o644, Size: int64(len(body))})
		io.WriteString(tw, body)
	}
	tw.Close()
	fx := newFixture(t, "twice", []string{"twice:1"}, layerTar(t, map[string]string{"base": "b"}), buf.Bytes())
	st := newStores(t)
	if _, err := Load(context.Background(), st, bytes.NewReader(tarOf(t, classicEntries(t, fx)))); err != nil {
		t.Fatal(err)
	}
	stored := storedBlobs(t, st)
	if stored[fx.diffIDs[0]] || !stored[fx.diffIDs[1]] {
		t.Fatalf("stored base %v, stored twice-written layer %v; want false, true", stored[fx.diffIDs[0]], stored[fx.diffIDs[1]])
	}
	saved := saveBytes(t, st, SaveImage{ID: fx.id, Refs: refs(t, "twice:1")})
	st2 := newStores(t)
	if _, err := Load(context.Background(), st2, bytes.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if again := saveBytes(t, st2, SaveImage{ID: fx.id, Refs: refs(t, "twice:1")}); !bytes.Equal(saved, again) {
		t.Fatal("save -> load -> save is not byte-identical")
	}
}

// TestSaveFailsOnDamagedLayer: with the blob gone, the layer directory is
// the only copy of a layer's bytes; damage to it fails the save as data
// loss instead of writing a wrong archive, and so does a missing layer.
func TestSaveFailsOnDamagedLayer(t *testing.T) {
	for name, damage := range map[string]func(st Stores, fx fixture) error{
		"byte flipped": func(st Stores, fx fixture) error {
			return os.WriteFile(filepath.Join(st.Layers.Dir(fx.chainID()), "app/a.txt"), []byte("hellO a\n"), 0o644)
		},
		"layer removed": func(st Stores, fx fixture) error {
			return st.Layers.Remove(context.Background(), fx.chainID())
		},
	} {
		t.Run(name, func(t *testing.T) {
			st, a, _ := loadedStores(t, false)
			if err := damage(st, a); err != nil {
				t.Fatal(err)
			}
			err := Save(context.Background(), st, io.Discard, []SaveImage{{ID: a.id}})
			if !errdefs.IsDataLoss(err) {
				t.Fatalf("Save: %v, want data loss", err)
			}
		})
	}
}

// TestConcurrentLoadsShareLayers loads images sharing a base in parallel,
// into one store: one load may drop a blob another is verifying against or
// about to unpack from; every load must still succeed.
func TestConcurrentLoadsShareLayers(t *testing.T) {
	st := newStores(t)
	base := layerTar(t, map[string]string{"etc/os-release": "shared base\n"})
	var fxs []fixture
	var archives [][]byte
	for i := range 6 {
		fx := newFixture(t, fmt.Sprint("c", i), []string{fmt.Sprintf("conc:%d", i)}, base,
			layerTar(t, map[string]string{"own": fmt.Sprint(i)}))
		fxs = append(fxs, fx)
		archives = append(archives, tarOf(t, classicEntries(t, fx)))
		if i%2 == 1 {
			archives[i] = saveOf(t, fx)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(archives))
	for i, arch := range archives {
		wg.Go(func() {
			_, errs[i] = Load(context.Background(), st, bytes.NewReader(arch))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("load %d: %v", i, err)
		}
	}
	checkNoLayerBlobs(t, st, fxs...)
	for _, fx := range fxs {
		checkImage(t, st, fx.tags[0], fx)
	}
}

// saveOf returns fx as Docker >= 25 saves it (blobs named by digest),
// saved from a store of its own.
func saveOf(t testing.TB, fx fixture) []byte {
	t.Helper()
	st := newStores(t)
	if _, err := Load(context.Background(), st, bytes.NewReader(tarOf(t, classicEntries(t, fx)))); err != nil {
		t.Fatal(err)
	}
	return saveBytes(t, st, SaveImage{ID: fx.id, Refs: refs(t, fx.tags...)})
}
