package imagetar

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
)

func refs(t testing.TB, names ...string) []reference.Named {
	t.Helper()
	var out []reference.Named
	for _, n := range names {
		r, err := reference.Parse(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// loadedStores returns stores holding the two test images, loaded from a
// classic archive or from an OCI layout with gzip layers.
func loadedStores(t testing.TB, oci bool) (Stores, fixture, fixture) {
	t.Helper()
	st := newStores(t)
	a, b := twoImages(t)
	entries := classicEntries(t, a, b)
	if oci {
		entries = ociEntries(t, nil, a, b)
	}
	if _, err := Load(context.Background(), st, bytes.NewReader(tarOf(t, entries))); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return st, a, b
}

func saveBoth(t testing.TB, st Stores, a, b fixture) []byte {
	return saveBytes(t, st,
		SaveImage{ID: a.id, Refs: refs(t, "example.com/app:1", "app")},
		SaveImage{ID: b.id, Refs: refs(t, "other:2")})
}

func TestSaveRoundTrip(t *testing.T) {
	st, a, b := loadedStores(t, false)
	first := saveBoth(t, st, a, b)
	if again := saveBoth(t, st, a, b); !bytes.Equal(first, again) {
		t.Fatal("saving twice gave different bytes")
	}
	st2 := newStores(t)
	loaded, err := Load(context.Background(), st2, bytes.NewReader(first))
	if err != nil {
		t.Fatalf("loading the saved archive: %v", err)
	}
	want := []Loaded{{ID: a.id, Tags: []string{"example.com/app:1", "app:latest"}}, {ID: b.id, Tags: []string{"other:2"}}}
	if !slices.EqualFunc(loaded, want, loadedEqual) {
		t.Fatalf("loaded %+v, want %+v", loaded, want)
	}
	if second := saveBoth(t, st2, a, b); !bytes.Equal(first, second) {
		t.Fatal("save -> load -> save is not byte-identical")
	}
	// Stored compressed (pulled, or an OCI layout) or not, the same images
	// save to the same bytes: layers are written uncompressed by diffID.
	st3, _, _ := loadedStores(t, true)
	if fromOCI := saveBoth(t, st3, a, b); !bytes.Equal(first, fromOCI) {
		t.Fatal("saving images stored with gzip layers differs from saving them stored uncompressed")
	}
}

func TestSaveFormat(t *testing.T) {
	st, a, b := loadedStores(t, true)
	arch := saveBoth(t, st, a, b)
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(arch))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || !hdr.ModTime.Equal(fixtureCreated.Truncate(time.Second)) {
			t.Errorf("%s: owner %d:%d %q, mtime %v", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.ModTime)
		}
		if (hdr.Typeflag == tar.TypeDir) != (hdr.Mode == 0o755) {
			t.Errorf("%s: mode %o", hdr.Name, hdr.Mode)
		}
		data, _ := io.ReadAll(tr)
		files[hdr.Name] = data
	}
	for name, data := range files {
		if enc, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && enc != "" && digest.FromBytes(data).Encoded() != enc {
			t.Errorf("%s holds sha256:%s", name, digest.FromBytes(data).Encoded())
		}
	}
	shared := blobPath(a.diffIDs[0])
	if n := countNames(tarNames(t, arch), shared); n != 1 {
		t.Errorf("shared layer %s written %d times, want once", shared, n)
	}
	if !bytes.Equal(files[shared], a.layers[0]) {
		t.Errorf("layer blob is not the uncompressed layer tar")
	}

	var idx ocispec.Index
	if err := json.Unmarshal(files[indexFile], &idx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range idx.Manifests {
		names = append(names, m.Annotations[annotationImageName]+" "+m.Annotations[ocispec.AnnotationRefName])
		if m.Platform == nil || m.Platform.OS != "linux" {
			t.Errorf("index entry %s has platform %v", m.Digest, m.Platform)
		}
	}
	wantNames := []string{"example.com/app:1 1", "docker.io/library/app:latest latest", "docker.io/library/other:2 2"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("index.json names %q, want %q", names, wantNames)
	}

	var items []manifestItem
	if err := json.Unmarshal(files[manifestFile], &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || !slices.Equal(items[0].RepoTags, []string{"example.com/app:1", "app:latest"}) ||
		items[1].Config != blobPath(b.id) || items[1].Layers[1] != blobPath(b.diffIDs[1]) {
		t.Errorf("manifest.json = %s", files[manifestFile])
	}
	var repos map[string]map[string]string
	if err := json.Unmarshal(files[repositoriesFile], &repos); err != nil {
		t.Fatal(err)
	}
	if repos["other"]["2"] != b.diffIDs[1].Encoded() || repos["example.com/app"]["1"] != a.diffIDs[1].Encoded() {
		t.Errorf("repositories = %s", files[repositoriesFile])
	}
	if string(files[layoutFile]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", files[layoutFile])
	}
}

func countNames(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}

func TestSaveUntagged(t *testing.T) {
	st, a, _ := loadedStores(t, false)
	arch := saveBytes(t, st, SaveImage{ID: a.id})
	st2 := newStores(t)
	loaded, err := Load(context.Background(), st2, bytes.NewReader(arch))
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0].ID != a.id || len(loaded[0].Tags) != 0 {
		t.Fatalf("loaded %+v, want %s by ID only", loaded, a.id)
	}
}

func TestSaveUnknownImage(t *testing.T) {
	st, a, _ := loadedStores(t, false)
	var buf bytes.Buffer
	err := Save(context.Background(), st, &buf, []SaveImage{{ID: a.id}, {ID: digest.FromString("nothing")}})
	if !errdefs.IsNotFound(err) {
		t.Fatalf("Save: %v, want errdefs.ErrNotFound", err)
	}
	if buf.Len() != 0 {
		t.Errorf("a failed save wrote %d bytes", buf.Len())
	}
}
