package image

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// memProvider is a Provider over a map; it returns whatever bytes it holds
// under a digest, so a test can make it lie.
type memProvider map[digest.Digest][]byte

func (m memProvider) ReadAll(_ context.Context, d digest.Digest) ([]byte, error) {
	b, ok := m[d]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
	}
	return b, nil
}

// add stores doc and returns its descriptor with the given media type.
func (m memProvider) add(mediaType, doc string) ocispec.Descriptor {
	d := digest.FromString(doc)
	m[d] = []byte(doc)
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(doc))}
}

var (
	cfgDigest   = digest.FromString("config")
	layerDigest = digest.FromString("layer")
)

func manifestJSON(mediaTypeField string, schemaVersion int) string {
	mt := ""
	if mediaTypeField != "" {
		mt = fmt.Sprintf(`"mediaType": %q,`, mediaTypeField)
	}
	return fmt.Sprintf(`{"schemaVersion": %d, %s
		"config": {"mediaType": %q, "digest": %q, "size": 6},
		"layers": [{"mediaType": %q, "digest": %q, "size": 5}]}`,
		schemaVersion, mt, ocispec.MediaTypeImageConfig, cfgDigest, ocispec.MediaTypeImageLayerGzip, layerDigest)
}

const (
	ociManifest = ocispec.MediaTypeImageManifest
	ociIndex    = ocispec.MediaTypeImageIndex
)

func TestReadManifest(t *testing.T) {
	indexDoc := fmt.Sprintf(`{"schemaVersion": 2, "manifests": [{"mediaType": %q, "digest": %q, "size": 1}]}`,
		ociManifest, cfgDigest)
	tests := []struct {
		name      string
		descType  string
		doc       string
		wantClass error  // nil: success
		wantText  string // substring of the error
	}{
		{name: "oci", descType: ociManifest, doc: manifestJSON(ociManifest, 2)},
		{name: "oci without mediaType field", descType: ociManifest, doc: manifestJSON("", 2)},
		{name: "no media type anywhere", descType: "", doc: manifestJSON("", 2)},
		{name: "docker", descType: MediaTypeDockerManifest, doc: manifestJSON(MediaTypeDockerManifest, 2)},
		{name: "schema 1 by descriptor", descType: mediaTypeDockerSchema1, doc: `{"schemaVersion": 1}`,
			wantClass: errdefs.ErrInvalid, wantText: "schema 1 manifests are not supported"},
		{name: "schema 1 signed", descType: mediaTypeDockerSchema1Signed, doc: `{"schemaVersion": 1}`,
			wantClass: errdefs.ErrInvalid, wantText: "schema 1 manifests are not supported"},
		{name: "schema 1 by version", descType: "", doc: `{"schemaVersion": 1, "name": "x", "fsLayers": []}`,
			wantClass: errdefs.ErrInvalid, wantText: "schema 1 manifests are not supported"},
		{name: "schema 1 by field", descType: "", doc: manifestJSON(mediaTypeDockerSchema1, 2),
			wantClass: errdefs.ErrInvalid, wantText: "schema 1 manifests are not supported"},
		{name: "garbage", descType: ociManifest, doc: `{"schemaVersion": 2, "config": `,
			wantClass: errdefs.ErrInvalid, wantText: "parsing manifest"},
		{name: "not an object", descType: ociManifest, doc: `[1, 2]`,
			wantClass: errdefs.ErrInvalid, wantText: "parsing manifest"},
		{name: "descriptor says config", descType: ocispec.MediaTypeImageConfig, doc: manifestJSON("", 2),
			wantClass: errdefs.ErrInvalid, wantText: "unexpected media type"},
		{name: "document says index", descType: ociManifest, doc: manifestJSON(ociIndex, 2),
			wantClass: errdefs.ErrInvalid, wantText: "unexpected media type"},
		{name: "index bytes", descType: "", doc: indexDoc,
			wantClass: errdefs.ErrInvalid, wantText: `"manifests"`},
		{name: "missing config", descType: ociManifest, doc: `{"schemaVersion": 2, "layers": []}`,
			wantClass: errdefs.ErrInvalid, wantText: "has no config"},
		{name: "bad layer digest", descType: ociManifest,
			doc:       strings.Replace(manifestJSON("", 2), string(layerDigest), "sha256:xyz", 1),
			wantClass: errdefs.ErrInvalid, wantText: "layer 0"},
		{name: "schemaVersion 3", descType: ociManifest, doc: manifestJSON("", 3),
			wantClass: errdefs.ErrInvalid, wantText: "schemaVersion 3"},
		{name: "no schemaVersion", descType: ociManifest, doc: `{}`,
			wantClass: errdefs.ErrInvalid, wantText: "schemaVersion 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := memProvider{}
			m, err := ReadManifest(context.Background(), p, p.add(tt.descType, tt.doc))
			checkErr(t, err, tt.wantClass, tt.wantText)
			if err == nil && (m.Config.Digest != cfgDigest || len(m.Layers) != 1 || m.Layers[0].Digest != layerDigest) {
				t.Errorf("manifest decoded as %+v", m)
			}
		})
	}
}

// TestReadManifestChecksBytes makes the provider return bytes that are not
// the descriptor's.
func TestReadManifestChecksBytes(t *testing.T) {
	ctx := context.Background()
	p := memProvider{}
	desc := p.add(ociManifest, manifestJSON("", 2))

	wrongSize := desc
	wrongSize.Size++
	_, err := ReadManifest(ctx, p, wrongSize)
	checkErr(t, err, errdefs.ErrInvalid, "descriptor says")

	p[desc.Digest] = []byte(manifestJSON(ociManifest, 2))
	_, err = ReadManifest(ctx, p, desc)
	checkErr(t, err, errdefs.ErrDataLoss, "content hashes to")

	missing := ocispec.Descriptor{MediaType: ociManifest, Digest: digest.FromString("absent")}
	_, err = ReadManifest(ctx, p, missing)
	checkErr(t, err, errdefs.ErrNotFound, "not found")

	_, err = ReadManifest(ctx, p, ocispec.Descriptor{MediaType: ociManifest, Digest: "sha256:../../x"})
	checkErr(t, err, errdefs.ErrInvalid, "invalid digest")
}

func TestReadIndex(t *testing.T) {
	list := func(mt string) string {
		return fmt.Sprintf(`{"schemaVersion": 2, %s "manifests": [
			{"mediaType": %q, "digest": %q, "size": 10, "platform": {"os": "linux", "architecture": "amd64"}}]}`,
			mt, MediaTypeDockerManifest, cfgDigest)
	}
	tests := []struct {
		name      string
		descType  string
		doc       string
		wantClass error
		wantText  string
	}{
		{name: "oci", descType: ociIndex, doc: list(`"mediaType": "` + ociIndex + `",`)},
		{name: "oci without field", descType: ociIndex, doc: list("")},
		{name: "docker list", descType: MediaTypeDockerManifestList, doc: list(`"mediaType": "` + MediaTypeDockerManifestList + `",`)},
		{name: "manifest descriptor", descType: ociManifest, doc: list(""),
			wantClass: errdefs.ErrInvalid, wantText: "unexpected media type"},
		{name: "manifest bytes", descType: "", doc: manifestJSON("", 2),
			wantClass: errdefs.ErrInvalid, wantText: `"config"`},
		{name: "schema 1", descType: mediaTypeDockerSchema1, doc: `{}`,
			wantClass: errdefs.ErrInvalid, wantText: "schema 1"},
		{name: "bad entry digest", descType: ociIndex, doc: strings.Replace(list(""), string(cfgDigest), "sha256:zz", 1),
			wantClass: errdefs.ErrInvalid, wantText: "manifest 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := memProvider{}
			idx, err := ReadIndex(context.Background(), p, p.add(tt.descType, tt.doc))
			checkErr(t, err, tt.wantClass, tt.wantText)
			if err == nil && (len(idx.Manifests) != 1 || idx.Manifests[0].Platform.Architecture != "amd64") {
				t.Errorf("index decoded as %+v", idx)
			}
		})
	}
}

func TestReadConfig(t *testing.T) {
	ctx := context.Background()
	doc := `{"architecture": "amd64", "os": "linux",
		"config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "Healthcheck": {"Test": ["CMD", "true"], "Retries": 3}},
		"rootfs": {"type": "layers", "diff_ids": ["` + string(layerDigest) + `"]}}`
	p := memProvider{}
	c, err := ReadConfig(ctx, p, p.add(MediaTypeDockerConfig, doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.Architecture != "amd64" || c.Config.Healthcheck == nil || c.Config.Healthcheck.Retries != 3 ||
		!slices.Equal(c.Config.Cmd, []string{"sh"}) || len(c.RootFS.DiffIDs) != 1 {
		t.Errorf("config decoded as %+v", c)
	}
	_, err = ReadConfig(ctx, p, p.add(ociManifest, doc))
	checkErr(t, err, errdefs.ErrInvalid, "unexpected media type")
	_, err = ReadConfig(ctx, p, p.add(ocispec.MediaTypeImageConfig, `{"os": 7}`))
	checkErr(t, err, errdefs.ErrInvalid, "parsing config")
}

func TestCheckLayers(t *testing.T) {
	m := ocispec.Manifest{Layers: []ocispec.Descriptor{{Digest: layerDigest}, {Digest: layerDigest}}}
	cfg := func(typ string, diffIDs ...digest.Digest) Config {
		var c Config
		c.RootFS = ocispec.RootFS{Type: typ, DiffIDs: diffIDs}
		return c
	}
	tests := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"matching", cfg("layers", layerDigest, cfgDigest), true},
		{"wrong type", cfg("tarballs", layerDigest, cfgDigest), false},
		{"too few diff IDs", cfg("layers", layerDigest), false},
		{"too many diff IDs", cfg("layers", layerDigest, layerDigest, layerDigest), false},
		{"bad diff ID", cfg("layers", layerDigest, "sha256:no"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLayers(m, tt.c)
			if tt.ok != (err == nil) || (err != nil && !errdefs.IsInvalid(err)) {
				t.Errorf("CheckLayers = %v, want ok=%v or errdefs.ErrInvalid", err, tt.ok)
			}
		})
	}
}

func TestChainIDs(t *testing.T) {
	a, b, c := digest.FromString("a"), digest.FromString("b"), digest.FromString("c")
	in := []digest.Digest{a, b, c}
	ab := digest.FromString(string(a) + " " + string(b))
	abc := digest.FromString(string(ab) + " " + string(c))
	if got := ChainIDs(in); !slices.Equal(got, []digest.Digest{a, ab, abc}) {
		t.Errorf("ChainIDs = %v, want [a, ab, abc]", got)
	}
	if !slices.Equal(in, []digest.Digest{a, b, c}) {
		t.Errorf("ChainIDs changed its input: %v", in)
	}
	if got := ChainIDs(nil); len(got) != 0 {
		t.Errorf("ChainIDs(nil) = %v", got)
	}
}

func TestMediaTypes(t *testing.T) {
	tests := []struct {
		mt                        string
		index, manifest, layer, c bool
	}{
		{mt: ociIndex, index: true},
		{mt: MediaTypeDockerManifestList, index: true},
		{mt: ociManifest, manifest: true},
		{mt: MediaTypeDockerManifest, manifest: true},
		{mt: ocispec.MediaTypeImageConfig, c: true},
		{mt: MediaTypeDockerConfig, c: true},
		{mt: ocispec.MediaTypeImageLayer, layer: true},
		{mt: ocispec.MediaTypeImageLayerGzip, layer: true},
		{mt: ocispec.MediaTypeImageLayerZstd, layer: true},
		{mt: MediaTypeDockerLayer, layer: true},
		{mt: MediaTypeDockerLayerGzip, layer: true},
		{mt: MediaTypeDockerForeignLayer, layer: true},
		{mt: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", layer: true},
		{mt: mediaTypeDockerSchema1},
		{mt: "application/json"},
		{mt: ""},
	}
	for _, tt := range tests {
		got := [4]bool{IsIndex(tt.mt), IsManifest(tt.mt), IsLayer(tt.mt), IsConfig(tt.mt)}
		if want := [4]bool{tt.index, tt.manifest, tt.layer, tt.c}; got != want {
			t.Errorf("%q: index/manifest/layer/config = %v, want %v", tt.mt, got, want)
		}
	}
}

// checkErr asserts err's class and text; a nil class means no error.
func checkErr(t *testing.T, err, class error, text string) {
	t.Helper()
	if class == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v containing %q", class, text)
	}
	if !errors.Is(err, class) {
		t.Errorf("error %q is not of class %v", err, class)
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("error %q does not contain %q", err, text)
	}
}
