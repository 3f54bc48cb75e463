package imagetar

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/testutil"
)

// TestInteropUmociLayout loads an OCI layout that umoci made, as a
// directory and as a tar.
func TestInteropUmociLayout(t *testing.T) {
	umoci := testutil.RequireBinary(t, "umoci")
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "layout")
	src := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(src, []byte("made by umoci\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, umoci, "init", "--layout", dir)
	testutil.Run(t, umoci, "new", "--image", dir+":latest")
	testutil.Run(t, umoci, "insert", "--image", dir+":latest", src, "/hello.txt")

	for _, tc := range []struct {
		name string
		load func(Stores) ([]Loaded, error)
	}{
		{"dir", func(st Stores) ([]Loaded, error) { return LoadDir(ctx, st, dir) }},
		{"tar", func(st Stores) ([]Loaded, error) { return Load(ctx, st, bytes.NewReader(tarDir(t, dir))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStores(t)
			loaded, err := tc.load(st)
			if err != nil {
				t.Fatalf("loading umoci's layout: %v", err)
			}
			if len(loaded) != 1 || len(loaded[0].Tags) != 0 {
				t.Fatalf("loaded %+v, want one image by ID (the tag \"latest\" names no repository)", loaded)
			}
			top := topChain(t, st, loaded[0].ID)
			if got := readFileIn(t, st.Layers, top, "hello.txt"); got != "made by umoci\n" {
				t.Errorf("hello.txt = %q", got)
			}
		})
	}
}

// TestInteropSkopeo checks that skopeo reads what Save writes, that the
// extracted archive is an OCI layout umoci unpacks, and that Load reads
// skopeo's own docker-archive output.
func TestInteropSkopeo(t *testing.T) {
	skopeo := testutil.RequireBinary(t, "skopeo")
	ctx := context.Background()
	st, a, _ := loadedStores(t, true)
	file := filepath.Join(t.TempDir(), "app.tar")
	if err := os.WriteFile(file, saveBytes(t, st, SaveImage{ID: a.id, Refs: refs(t, "example.com/app:1")}), 0o644); err != nil {
		t.Fatal(err)
	}

	var inspect struct{ Layers []digest.Digest }
	out := testutil.Run(t, skopeo, "inspect", "docker-archive:"+file)
	if err := json.Unmarshal([]byte(out), &inspect); err != nil {
		t.Fatalf("skopeo inspect output: %v\n%s", err, out)
	}
	if !slices.Equal(inspect.Layers, a.diffIDs) {
		t.Errorf("skopeo sees layers %v, want the diffIDs %v", inspect.Layers, a.diffIDs)
	}
	ociDir := filepath.Join(t.TempDir(), "oci")
	testutil.Run(t, skopeo, "copy", "docker-archive:"+file, "oci:"+ociDir+":copied")

	t.Run("umoci unpacks the extracted archive", func(t *testing.T) {
		umoci := testutil.RequireBinary(t, "umoci")
		layout := filepath.Join(t.TempDir(), "layout")
		untar(t, file, layout)
		bundle := filepath.Join(t.TempDir(), "bundle")
		testutil.Run(t, umoci, "unpack", "--image", layout+":1", bundle)
		data, err := os.ReadFile(filepath.Join(bundle, "rootfs", "app", "a.txt"))
		if err != nil || string(data) != "hello a\n" {
			t.Errorf("app/a.txt in umoci's bundle: %q, %v", data, err)
		}
	})

	t.Run("load skopeo's docker-archive", func(t *testing.T) {
		back := filepath.Join(t.TempDir(), "back.tar")
		testutil.Run(t, skopeo, "copy", "oci:"+ociDir+":copied", "docker-archive:"+back+":skopeo/app:v2")
		st2 := newStores(t)
		f, err := os.Open(back)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		loaded, err := Load(ctx, st2, f)
		if err != nil {
			t.Fatalf("loading skopeo's docker-archive: %v", err)
		}
		// skopeo re-encodes the config when converting, so the ID differs;
		// the layers do not.
		if len(loaded) != 1 || !slices.Equal(loaded[0].Tags, []string{"skopeo/app:v2"}) {
			t.Fatalf("loaded %+v, want one image tagged skopeo/app:v2", loaded)
		}
		if top := topChain(t, st2, loaded[0].ID); top != a.chainID() {
			t.Errorf("top layer %s, want %s", top, a.chainID())
		}
		if got := readFileIn(t, st2.Layers, a.chainID(), "app/a.txt"); got != "hello a\n" {
			t.Errorf("app/a.txt = %q", got)
		}
	})
}

// topChain returns the chain ID of an image's top layer.
func topChain(t testing.TB, st Stores, id digest.Digest) digest.Digest {
	t.Helper()
	data, err := st.Content.ReadAll(context.Background(), id)
	if err != nil {
		t.Fatalf("config of %s: %v", id, err)
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	return fixture{diffIDs: cfg.RootFS.DiffIDs}.chainID()
}

// tarDir archives a directory tree (regular files and directories).
func tarDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil || !fi.Mode().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// untar extracts an archive of regular files and directories into dir.
func untar(t testing.TB, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
