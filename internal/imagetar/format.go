package imagetar

import (
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
)

// Stores are the stores an archive is loaded into or saved from.
type Stores struct {
	Content *content.Store
	Images  *image.Store
	Layers  *layer.Store
}

// Names of the top-level files of the archive formats.
const (
	manifestFile     = "manifest.json"
	indexFile        = "index.json"
	layoutFile       = "oci-layout"
	repositoriesFile = "repositories"
	blobsDir         = "blobs"
)

// annotationImageName carries the full image name in an index.json entry
// (containerd's convention, which Docker >= 25 writes and reads).
const annotationImageName = "io.containerd.image.name"

// layoutContent is the oci-layout file every OCI layout starts with.
var layoutContent = []byte(`{"imageLayoutVersion":"1.0.0"}`)

// manifestItem is one entry of a classic docker save manifest.json. Field
// names and order are Docker's, so old loaders read what Save writes.
type manifestItem struct {
	Config       string
	RepoTags     []string
	Layers       []string
	Parent       string                               `json:",omitempty"`
	LayerSources map[digest.Digest]ocispec.Descriptor `json:",omitempty"`
}

// blobPath is where a blob lives in an OCI layout ("blobs/sha256/<hex>").
func blobPath(d digest.Digest) string {
	return blobsDir + "/" + d.Algorithm().String() + "/" + d.Encoded()
}

// buildManifest returns the OCI manifest of an image whose layers are
// uncompressed tars named by their diffIDs (or the given layer descriptors).
// Load and Save both use it so that a manifest made for a classic archive is
// byte-identical to the one Save writes for the same image.
func buildManifest(config ocispec.Descriptor, layers []ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageConfig,
			Digest:    config.Digest,
			Size:      config.Size,
		},
		Layers: layers,
	}
	if m.Layers == nil {
		m.Layers = []ocispec.Descriptor{}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("encoding manifest of %s: %w", config.Digest, err)
	}
	desc := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageManifest,
		Digest:    digest.FromBytes(data),
		Size:      int64(len(data)),
	}
	return data, desc, nil
}

// tarLayers describes uncompressed layers by diffID, as Save writes them.
func tarLayers(diffIDs []digest.Digest, sizes []int64) []ocispec.Descriptor {
	descs := make([]ocispec.Descriptor, len(diffIDs))
	for i, d := range diffIDs {
		descs[i] = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: sizes[i]}
	}
	return descs
}
