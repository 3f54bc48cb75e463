package image

import (
	"context"
	"encoding/json"
	"fmt"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Docker's media types, accepted everywhere an OCI one is.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
	MediaTypeDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// Docker's schema 1 manifests, recognised only to be refused by name.
const (
	mediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// Config is an image config: the OCI one plus Docker's extensions
// (Healthcheck, OnBuild, Shell, ...).
type Config = dockerspec.DockerOCIImage

// Provider is the slice of the content store that reading needs.
type Provider interface {
	ReadAll(ctx context.Context, d digest.Digest) ([]byte, error)
}

// ReadManifest reads and validates an image manifest (OCI or Docker v2
// schema 2). Other media types, schema 1 among them, are errdefs.ErrInvalid.
// The media type is checked both in desc and in the JSON, where an OCI
// manifest may omit it; a manifest must name a config and its digests must
// be valid. Whether the config's diff IDs match the layers is CheckLayers'.
func ReadManifest(ctx context.Context, p Provider, desc ocispec.Descriptor) (ocispec.Manifest, error) {
	b, err := readDocument(ctx, p, desc, kindManifest)
	if err != nil {
		return ocispec.Manifest{}, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return ocispec.Manifest{}, errdefs.Invalid("parsing manifest %s: %w", desc.Digest, err)
	}
	if m.Config.Digest == "" {
		return ocispec.Manifest{}, errdefs.Invalid("manifest %s has no config", desc.Digest)
	}
	if err := checkDescriptor(m.Config); err != nil {
		return ocispec.Manifest{}, fmt.Errorf("manifest %s: config: %w", desc.Digest, err)
	}
	for i, l := range m.Layers {
		if err := checkDescriptor(l); err != nil {
			return ocispec.Manifest{}, fmt.Errorf("manifest %s: layer %d: %w", desc.Digest, i, err)
		}
	}
	return m, nil
}

// ReadIndex reads an OCI index or a Docker manifest list.
func ReadIndex(ctx context.Context, p Provider, desc ocispec.Descriptor) (ocispec.Index, error) {
	b, err := readDocument(ctx, p, desc, kindIndex)
	if err != nil {
		return ocispec.Index{}, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return ocispec.Index{}, errdefs.Invalid("parsing index %s: %w", desc.Digest, err)
	}
	for i, m := range idx.Manifests {
		if err := checkDescriptor(m); err != nil {
			return ocispec.Index{}, fmt.Errorf("index %s: manifest %d: %w", desc.Digest, i, err)
		}
	}
	return idx, nil
}

// ReadConfig reads an image config (OCI or Docker media type).
func ReadConfig(ctx context.Context, p Provider, desc ocispec.Descriptor) (Config, error) {
	if desc.MediaType != "" && !IsConfig(desc.MediaType) {
		return Config{}, errdefs.Invalid("config %s: unexpected media type %q", desc.Digest, desc.MediaType)
	}
	b, err := readBlob(ctx, p, desc, "config")
	if err != nil {
		return Config{}, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, errdefs.Invalid("parsing config %s: %w", desc.Digest, err)
	}
	return c, nil
}

// CheckLayers checks that c describes m's layers: rootfs type "layers" and
// one valid diff ID per layer.
func CheckLayers(m ocispec.Manifest, c Config) error {
	if c.RootFS.Type != "layers" {
		return errdefs.Invalid("config %s: rootfs type %q, want \"layers\"", m.Config.Digest, c.RootFS.Type)
	}
	if len(c.RootFS.DiffIDs) != len(m.Layers) {
		return errdefs.Invalid("config %s has %d diff IDs for the manifest's %d layers",
			m.Config.Digest, len(c.RootFS.DiffIDs), len(m.Layers))
	}
	for i, d := range c.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return errdefs.Invalid("config %s: diff ID %d %q: %w", m.Config.Digest, i, d, err)
		}
	}
	return nil
}

// ChainIDs returns the chain ID of every prefix of diffIDs.
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	return identity.ChainIDs(append([]digest.Digest(nil), diffIDs...)) // it works in place
}

// IsIndex reports whether mediaType is an OCI index or a Docker manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

// IsManifest reports whether mediaType is an OCI or Docker v2 image manifest.
func IsManifest(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageManifest || mediaType == MediaTypeDockerManifest
}

// IsConfig reports whether mediaType is an OCI or Docker image config.
func IsConfig(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageConfig || mediaType == MediaTypeDockerConfig
}

// IsLayer reports whether mediaType is a layer of any known kind.
func IsLayer(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageLayerZstd,
		MediaTypeDockerLayer, MediaTypeDockerLayerGzip, MediaTypeDockerForeignLayer,
		// Non-distributable layers are deprecated in image-spec 1.1 but
		// still found in the wild (Windows base images); spelt out here
		// because the constants are marked deprecated.
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
		return true
	}
	return false
}
