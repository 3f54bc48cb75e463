package imagetar

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/unpack"
)

// twoImages returns two images sharing a base layer.
func twoImages(t testing.TB) (fixture, fixture) {
	base := layerTar(t, map[string]string{"etc/os-release": "base\n", "bin/tool": "#!tool\n"})
	a := newFixture(t, "a", []string{"example.com/app:1", "app:latest"}, base,
		layerTar(t, map[string]string{"app/a.txt": "hello a\n"}))
	b := newFixture(t, "b", []string{"other:2"}, base,
		layerTar(t, map[string]string{"app/b.txt": "hello b\n"}))
	return a, b
}

func TestLoadClassic(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress func(testing.TB, []byte) []byte
	}{
		{"plain", func(_ testing.TB, b []byte) []byte { return b }},
		{"gzip", gzipped},
		{"zstd", zstded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := newStores(t)
			a, b := twoImages(t)
			arch := tc.compress(t, tarOf(t, classicEntries(t, a, b)))
			loaded, err := Load(ctx, st, bytes.NewReader(arch))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := []Loaded{{ID: a.id, Tags: []string{"example.com/app:1", "app:latest"}}, {ID: b.id, Tags: []string{"other:2"}}}
			if !slices.EqualFunc(loaded, want, loadedEqual) {
				t.Fatalf("loaded %+v, want %+v", loaded, want)
			}
			checkImage(t, st, "app", a)
			checkImage(t, st, "other:2", b)
			if got := readFileIn(t, st.Layers, a.chainID(), "app/a.txt"); got != "hello a\n" {
				t.Errorf("app/a.txt = %q", got)
			}
			if got := readFileIn(t, st.Layers, a.diffIDs[0], "etc/os-release"); got != "base\n" {
				t.Errorf("etc/os-release = %q", got)
			}
			layers, err := st.Layers.List(ctx)
			if err != nil || len(layers) != 3 {
				t.Errorf("layer store holds %d layers (%v), want 3: the base is shared", len(layers), err)
			}
		})
	}
}

func loadedEqual(a, b Loaded) bool { return a.ID == b.ID && slices.Equal(a.Tags, b.Tags) }

// checkImage resolves name and checks the record's manifest describes fx.
func checkImage(t testing.TB, st Stores, name string, fx fixture) {
	t.Helper()
	ctx := context.Background()
	img, err := st.Images.Resolve(ctx, name)
	if err != nil {
		t.Fatalf("resolving %s: %v", name, err)
	}
	if img.ID != fx.id {
		t.Fatalf("%s is %s, want %s", name, img.ID, fx.id)
	}
	m, err := image.ReadManifest(ctx, st.Content, img.Manifest)
	if err != nil {
		t.Fatalf("reading manifest of %s: %v", name, err)
	}
	if m.Config.Digest != fx.id || len(m.Layers) != len(fx.layers) {
		t.Fatalf("manifest of %s: config %s, %d layers", name, m.Config.Digest, len(m.Layers))
	}
	// Every layer blob can be read, and an uncompressed one is not stored:
	// the layer store rebuilds it.
	blobs := unpack.LayerBlobs{Content: st.Content, Layers: st.Layers}
	chain := image.ChainIDs(fx.diffIDs)
	for i, l := range m.Layers {
		if size, err := blobs.Stat(ctx, l, fx.diffIDs[i], chain[i]); err != nil || size != l.Size {
			t.Errorf("layer blob %s: size %d, %v; want %d", l.Digest, size, err, l.Size)
		}
		if _, err := st.Content.Info(ctx, l.Digest); unpack.Uncompressed(l, fx.diffIDs[i]) && !errdefs.IsNotFound(err) {
			t.Errorf("uncompressed layer blob %s is stored (%v)", l.Digest, err)
		}
	}
}

func TestLoadOCILayout(t *testing.T) {
	a, b := twoImages(t)
	ann := []map[string]string{
		{ocispec.AnnotationRefName: "latest"}, // umoci's form: a bare tag names nothing
		{annotationImageName: "docker.io/library/other:2", ocispec.AnnotationRefName: "2"},
	}
	entries := ociEntries(t, ann, a, b)
	for _, tc := range []struct {
		name string
		load func(context.Context, Stores) ([]Loaded, error)
	}{
		{"tar", func(ctx context.Context, st Stores) ([]Loaded, error) {
			return Load(ctx, st, bytes.NewReader(tarOf(t, entries)))
		}},
		{"dir", func(ctx context.Context, st Stores) ([]Loaded, error) {
			dir := t.TempDir()
			writeDir(t, dir, entries)
			return LoadDir(ctx, st, dir)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStores(t)
			loaded, err := tc.load(context.Background(), st)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			want := []Loaded{{ID: a.id}, {ID: b.id, Tags: []string{"other:2"}}}
			if !slices.EqualFunc(loaded, want, loadedEqual) {
				t.Fatalf("loaded %+v, want %+v", loaded, want)
			}
			checkImage(t, st, a.id.String(), a)
			checkImage(t, st, "other:2", b)
			if got := readFileIn(t, st.Layers, b.chainID(), "app/b.txt"); got != "hello b\n" {
				t.Errorf("app/b.txt = %q", got)
			}
		})
	}
}

func TestLoadClassicDir(t *testing.T) {
	st := newStores(t)
	a, b := twoImages(t)
	dir := t.TempDir()
	writeDir(t, dir, classicEntries(t, a, b)) // b's base layer.tar is a symlink
	if _, err := LoadDir(context.Background(), st, dir); err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	checkImage(t, st, "other:2", b)
}

func TestLoadNestedIndex(t *testing.T) {
	st := newStores(t)
	a, _ := twoImages(t)
	entries := ociEntries(t, nil, a)
	// Wrap the manifest in an index naming two platforms, only the host's
	// present, as a single-platform export of a multi-platform image has.
	var top ocispec.Index
	json.Unmarshal(entries[len(entries)-1].data, &top)
	m := top.Manifests[0]
	m.Platform = &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	other := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("absent"), Size: 10,
		Platform: &ocispec.Platform{OS: "linux", Architecture: "s390x"}}
	inner := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{other, m}}
	inner.SchemaVersion = 2
	innerData, _ := json.Marshal(inner)
	innerDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(innerData), Size: int64(len(innerData)),
		Annotations: map[string]string{annotationImageName: "docker.io/library/multi:1"}}
	top.Manifests = []ocispec.Descriptor{innerDesc}
	topData, _ := json.Marshal(top)
	entries[len(entries)-1] = entry{name: blobPath(innerDesc.Digest), data: innerData}
	entries = append(entries, entry{name: indexFile, data: topData})

	loaded, err := Load(context.Background(), st, bytes.NewReader(tarOf(t, entries)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(loaded) != 1 || loaded[0].ID != a.id || !slices.Equal(loaded[0].Tags, []string{"multi:1"}) {
		t.Fatalf("loaded %+v", loaded)
	}
	checkImage(t, st, "multi:1", a)
}

// TestLoadDocker25 loads what Docker 25.0.0 wrote: index.json whose
// manifest lists no layers, beside a correct manifest.json.
func TestLoadDocker25(t *testing.T) {
	st := newStores(t)
	a, _ := twoImages(t)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Layers: []ocispec.Descriptor{},
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: a.id, Size: int64(len(a.config))}}
	m.SchemaVersion = 2
	mdata, _ := json.Marshal(m)
	md := digest.FromBytes(mdata)
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: m.MediaType, Digest: md, Size: int64(len(mdata)),
		Annotations: map[string]string{annotationImageName: "docker.io/library/app:25", ocispec.AnnotationRefName: "25"},
	}}}
	idx.SchemaVersion = 2
	idata, _ := json.Marshal(idx)
	item := manifestItem{Config: blobPath(a.id), RepoTags: []string{"app:25"}}
	entries := []entry{{name: blobPath(a.id), data: a.config}, {name: blobPath(md), data: mdata}}
	for i, l := range a.layers {
		entries = append(entries, entry{name: blobPath(a.diffIDs[i]), data: l})
		item.Layers = append(item.Layers, blobPath(a.diffIDs[i]))
	}
	man, _ := json.Marshal([]manifestItem{item})
	entries = append(entries, entry{name: indexFile, data: idata}, entry{name: manifestFile, data: man},
		entry{name: layoutFile, data: layoutContent})
	if _, err := Load(context.Background(), st, bytes.NewReader(tarOf(t, entries))); err != nil {
		t.Fatalf("Load: %v", err)
	}
	checkImage(t, st, "app:25", a)
}

func TestLoadBadInput(t *testing.T) {
	a, _ := twoImages(t)
	classic := classicEntries(t, a)
	oci := ociEntries(t, nil, a)
	withEntry := func(entries []entry, i int, e entry) []entry {
		out := slices.Clone(entries)
		out[i] = e
		return out
	}
	idxOf := func(entries []entry, name string) int {
		return slices.IndexFunc(entries, func(e entry) bool { return e.name == name })
	}
	wrongLayer := newFixture(t, "a", nil, a.layers[0], layerTar(t, map[string]string{"other": "x"}))
	oneLayer := newFixture(t, "a", nil, a.layers[0])
	schema1 := []byte(`{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}`)
	s1idx := ocispec.Index{Manifests: []ocispec.Descriptor{{MediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws",
		Digest: digest.FromBytes(schema1), Size: int64(len(schema1))}}}
	s1idx.SchemaVersion = 2
	s1data, _ := json.Marshal(s1idx)
	full := tarOf(t, classic)

	for _, tc := range []struct {
		name    string
		archive []byte
	}{
		{"empty archive", nil},
		{"empty tar", tarOf(t, nil)},
		{"not a tar", bytes.Repeat([]byte("this is not a tar file\n"), 100)},
		{"short garbage", []byte("garbage")},
		{"truncated tar", full[:len(full)/2]},
		{"truncated gzip", func() []byte { g := gzipped(t, full); return g[:len(g)-100] }()},
		{"manifest.json refers to a missing file", tarOf(t, classic[1:])},
		{"digest mismatch in blobs", tarOf(t, withEntry(oci, 1, entry{name: oci[1].name, data: []byte("tampered")}))},
		{"layer does not match diff_id", tarOf(t, withEntry(classic, idxOf(classic, a.id.Encoded()+".json"),
			entry{name: a.id.Encoded() + ".json", data: wrongLayer.config}))},
		{"diff_ids count mismatch", tarOf(t, withEntry(classic, idxOf(classic, a.id.Encoded()+".json"),
			entry{name: a.id.Encoded() + ".json", data: oneLayer.config}))},
		{"schema 1", tarOf(t, []entry{{name: blobPath(digest.FromBytes(schema1)), data: schema1}, {name: indexFile, data: s1data}})},
		{"path traversal", tarOf(t, append([]entry{{name: "../evil", data: []byte("x")}}, classic...))},
		{"path traversal inside", tarOf(t, append([]entry{{name: "blobs/../../evil", data: []byte("x")}}, classic...))},
		{"absolute path", tarOf(t, append([]entry{{name: "/etc/evil", data: []byte("x")}}, classic...))},
		{"symlink escaping", tarOf(t, append([]entry{{name: "x/layer.tar", link: "../../../etc/passwd"}}, classic...))},
		{"malformed blob name", tarOf(t, append([]entry{{name: "blobs/sha256/nothex", data: []byte("x")}}, oci...))},
		{"second image broken", func() []byte {
			// A good image first: it must not become visible either.
			_, b := twoImages(t)
			bad := newFixture(t, "bad", []string{"bad:1"}, a.layers[0], layerTar(t, map[string]string{"z": "z"}))
			entries := classicEntries(t, b, bad)
			i := idxOf(entries, bad.id.Encoded()+".json")
			return tarOf(t, withEntry(entries, i, entry{name: entries[i].name, data: wrongLayer.config}))
		}()},
		{"bad manifest.json", tarOf(t, []entry{{name: manifestFile, data: []byte("{not json")}})},
		{"no images", tarOf(t, []entry{{name: layoutFile, data: layoutContent}, {name: "index.json", data: []byte(`{"schemaVersion":2,"manifests":[]}`)}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStores(t)
			ctx := context.Background()
			_, err := Load(ctx, st, bytes.NewReader(tc.archive))
			if !errdefs.IsInvalid(err) {
				t.Fatalf("Load: %v, want an errdefs.ErrInvalid error", err)
			}
			t.Logf("error: %v", err)
			imgs, lerr := st.Images.List(ctx)
			if lerr != nil || len(imgs) != 0 {
				t.Fatalf("after a failed load the store lists %d images (%v), want none", len(imgs), lerr)
			}
		})
	}
}

func TestLoadExistingImageKeepsRecord(t *testing.T) {
	ctx := context.Background()
	st := newStores(t)
	a, _ := twoImages(t)
	if _, err := Load(ctx, st, bytes.NewReader(tarOf(t, ociEntries(t, nil, a)))); err != nil {
		t.Fatal(err)
	}
	before, err := st.Images.Get(ctx, a.id)
	if err != nil {
		t.Fatal(err)
	}
	// The classic form of the same image builds another manifest; the
	// record keeps the first and gains the tags.
	if _, err := Load(ctx, st, bytes.NewReader(tarOf(t, classicEntries(t, a)))); err != nil {
		t.Fatal(err)
	}
	after, err := st.Images.Get(ctx, a.id)
	if err != nil {
		t.Fatal(err)
	}
	if after.Manifest.Digest != before.Manifest.Digest || !after.Created.Equal(before.Created) {
		t.Errorf("record changed: %+v -> %+v", before.Record, after.Record)
	}
	if len(after.RepoTags) != 2 {
		t.Errorf("tags %v, want the two of the classic archive", after.RepoTags)
	}
}
