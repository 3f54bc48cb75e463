package image

import (
	"context"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// kind is what a JSON document must be: a manifest or an index. A document
// of one kind read as the other is refused, so that a registry or archive
// cannot make strata read an index's bytes as a manifest.
type kind struct {
	name    string
	isKind  func(mediaType string) bool
	foreign []string // top-level fields only the other kind has
}

var (
	kindManifest = kind{name: "manifest", isKind: IsManifest, foreign: []string{"manifests"}}
	kindIndex    = kind{name: "index", isKind: IsIndex, foreign: []string{"config", "layers"}}
)

// errSchema1 is Docker's own wording for the refusal.
var errSchema1 = errdefs.Invalid("schema 1 manifests are not supported")

func isSchema1(mediaType string) bool {
	return mediaType == mediaTypeDockerSchema1 || mediaType == mediaTypeDockerSchema1Signed
}

// readDocument reads the manifest or index desc names and checks its media
// types (the descriptor's and the document's own), its schema version and
// that it has no fields of the other kind. It returns the raw bytes for the
// caller to decode.
func readDocument(ctx context.Context, p Provider, desc ocispec.Descriptor, k kind) ([]byte, error) {
	if isSchema1(desc.MediaType) {
		return nil, errSchema1
	}
	if desc.MediaType != "" && !k.isKind(desc.MediaType) {
		return nil, errdefs.Invalid("%s %s: unexpected media type %q", k.name, desc.Digest, desc.MediaType)
	}
	b, err := readBlob(ctx, p, desc, k.name)
	if err != nil {
		return nil, err
	}
	var head struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, errdefs.Invalid("parsing %s %s: %w", k.name, desc.Digest, err)
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, errdefs.Invalid("parsing %s %s: %w", k.name, desc.Digest, err)
	}
	switch {
	case head.SchemaVersion == 1 || isSchema1(head.MediaType):
		return nil, errSchema1
	case head.MediaType != "" && !k.isKind(head.MediaType):
		return nil, errdefs.Invalid("%s %s: unexpected media type %q", k.name, desc.Digest, head.MediaType)
	case head.SchemaVersion != 2:
		return nil, errdefs.Invalid("%s %s: unsupported schemaVersion %d", k.name, desc.Digest, head.SchemaVersion)
	}
	for _, f := range k.foreign {
		if _, ok := fields[f]; ok {
			return nil, errdefs.Invalid("%s %s: has a %q field: not a %s", k.name, desc.Digest, f, k.name)
		}
	}
	return b, nil
}

// readBlob reads the blob desc names and checks that it is desc's bytes:
// its digest (a Provider need not verify, an OCI layout on disk does not)
// and, when desc gives one, its size.
func readBlob(ctx context.Context, p Provider, desc ocispec.Descriptor, what string) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, errdefs.Invalid("%s: invalid digest %q: %w", what, desc.Digest, err)
	}
	b, err := p.ReadAll(ctx, desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", what, desc.Digest, err)
	}
	if actual := desc.Digest.Algorithm().FromBytes(b); actual != desc.Digest {
		return nil, errdefs.DataLoss("%s %s: content hashes to %s", what, desc.Digest, actual)
	}
	if desc.Size > 0 && int64(len(b)) != desc.Size {
		return nil, errdefs.Invalid("%s %s: descriptor says %d bytes, blob has %d", what, desc.Digest, desc.Size, len(b))
	}
	return b, nil
}

// checkDescriptor checks a descriptor inside a manifest or index: a digest
// that can be used as a content store key and a size that is not negative.
func checkDescriptor(d ocispec.Descriptor) error {
	if err := d.Digest.Validate(); err != nil {
		return errdefs.Invalid("invalid digest %q: %w", d.Digest, err)
	}
	if d.Size < 0 {
		return errdefs.Invalid("descriptor %s: negative size %d", d.Digest, d.Size)
	}
	return nil
}
