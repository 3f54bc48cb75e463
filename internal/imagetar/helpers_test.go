package imagetar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
	"github.com/strata-containers/strata/internal/testutil"
)

// newStores opens fresh stores in a temporary directory. The layer store
// applies ownership and device nodes, so it needs root.
func newStores(t testing.TB) Stores {
	t.Helper()
	return newStoresIn(t, t.TempDir())
}

// newStoresIn opens fresh stores under dir.
func newStoresIn(t testing.TB, dir string) Stores {
	t.Helper()
	testutil.RequireRoot(t)
	cs, err := content.Open(filepath.Join(dir, "content"))
	if err != nil {
		t.Fatal(err)
	}
	is, err := image.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := layer.Open(context.Background(), layer.Options{Root: filepath.Join(dir, "layers")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close() })
	return Stores{Content: cs, Images: is, Layers: ls}
}

// entry is one member of an archive built by a test.
type entry struct {
	name string
	data []byte
	link string // symlink target when non-empty
}

func tarOf(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: time.Unix(1e9, 0), Typeflag: tar.TypeReg}
		if e.link != "" {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeDir(t testing.TB, dir string, entries []entry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(dir, e.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if e.link != "" {
			err = os.Symlink(e.link, p)
		} else {
			err = os.WriteFile(p, e.data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// layerTar returns a layer tar holding files (path -> content), with the
// directories they need, in sorted order.
func layerTar(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, n := range names {
		for d := path.Dir(n); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			hdr := &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: time.Unix(1e9, 0)}
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Unix(1e9, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll(b, nil)
}

// fixtureCreated is every fixture's creation time; sub-second on purpose.
var fixtureCreated = time.Date(2024, 5, 6, 7, 8, 9, 123, time.UTC)

// fixture is a test image: its layer tars, config and tags.
type fixture struct {
	layers  [][]byte
	diffIDs []digest.Digest
	config  []byte
	id      digest.Digest
	tags    []string
}

func newFixture(t testing.TB, cmd string, tags []string, layers ...[]byte) fixture {
	t.Helper()
	created := fixtureCreated
	var cfg image.Config
	cfg.Created = &created
	cfg.OS, cfg.Architecture = runtime.GOOS, runtime.GOARCH
	cfg.Config.Cmd = []string{cmd}
	cfg.RootFS.Type = "layers"
	fx := fixture{layers: layers, tags: tags}
	for _, l := range layers {
		fx.diffIDs = append(fx.diffIDs, digest.FromBytes(l))
	}
	cfg.RootFS.DiffIDs = fx.diffIDs
	var err error
	if fx.config, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	fx.id = digest.FromBytes(fx.config)
	return fx
}

func (fx fixture) chainID() digest.Digest {
	var c digest.Digest
	for _, d := range fx.diffIDs {
		c = layer.ChainID(c, d)
	}
	return c
}

// classicEntries lays images out as Docker < 25 saved them: <v1id>/layer.tar
// (a symlink to the first copy for a layer seen before), <id>.json,
// manifest.json and repositories.
func classicEntries(t testing.TB, fxs ...fixture) []entry {
	t.Helper()
	var out []entry
	var items []manifestItem
	seen := map[digest.Digest]string{}
	repos := map[string]map[string]string{}
	for _, fx := range fxs {
		item := manifestItem{Config: fx.id.Encoded() + ".json", RepoTags: fx.tags}
		for i, l := range fx.layers {
			v1 := digest.FromString(fmt.Sprint(fx.id, i)).Encoded()
			name := v1 + "/layer.tar"
			if first, ok := seen[fx.diffIDs[i]]; ok {
				out = append(out, entry{name: name, link: "../" + first})
			} else {
				seen[fx.diffIDs[i]] = name
				out = append(out, entry{name: name, data: l}, entry{name: v1 + "/VERSION", data: []byte("1.0")})
			}
			item.Layers = append(item.Layers, name)
		}
		out = append(out, entry{name: item.Config, data: fx.config})
		items = append(items, item)
		for _, tag := range fx.tags {
			repos[tag] = map[string]string{"latest": "x"}
		}
	}
	man, _ := json.Marshal(items)
	rep, _ := json.Marshal(repos)
	return append(out, entry{name: manifestFile, data: man}, entry{name: repositoriesFile, data: rep})
}

// ociEntries lays images out as an OCI image layout with gzip layers; each
// image's index entry carries the given annotations.
func ociEntries(t testing.TB, ann []map[string]string, fxs ...fixture) []entry {
	t.Helper()
	out := []entry{{name: layoutFile, data: layoutContent}}
	var idx ocispec.Index
	idx.SchemaVersion = 2
	for i, fx := range fxs {
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: fx.id, Size: int64(len(fx.config))},
		}
		out = append(out, entry{name: blobPath(fx.id), data: fx.config})
		for _, l := range fx.layers {
			gz := gzipped(t, l)
			d := digest.FromBytes(gz)
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: int64(len(gz))})
			out = append(out, entry{name: blobPath(d), data: gz})
		}
		data, _ := json.Marshal(m)
		md := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
		if i < len(ann) {
			md.Annotations = ann[i]
		}
		idx.Manifests = append(idx.Manifests, md)
		out = append(out, entry{name: blobPath(md.Digest), data: data})
	}
	data, _ := json.Marshal(idx)
	return append(out, entry{name: indexFile, data: data})
}

// readFileIn reads a file of a committed layer's own tree.
func readFileIn(t testing.TB, ls *layer.Store, chainID digest.Digest, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ls.Dir(chainID), name))
	if err != nil {
		t.Fatalf("layer %s: %v", chainID, err)
	}
	return string(data)
}

// saveBytes saves images and returns the archive.
func saveBytes(t testing.TB, st Stores, imgs ...SaveImage) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Save(context.Background(), st, &buf, imgs); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return buf.Bytes()
}

// tarNames lists the names of an archive's entries, in order.
func tarNames(t testing.TB, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	return names
}
