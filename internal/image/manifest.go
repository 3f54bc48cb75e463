package image

import (
	"context"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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

// Config is an image config: the OCI one plus Docker's extensions
// (Healthcheck, OnBuild, Shell, ...).
type Config = dockerspec.DockerOCIImage

// Provider is the slice of the content store that reading needs.
type Provider interface {
	ReadAll(ctx context.Context, d digest.Digest) ([]byte, error)
}

// ReadManifest reads and validates an image manifest (OCI or Docker v2
// schema 2). Other media types, schema 1 among them, are errdefs.ErrInvalid.
func ReadManifest(ctx context.Context, p Provider, desc ocispec.Descriptor) (ocispec.Manifest, error) {
	panic("unimplemented")
}

// ReadIndex reads an OCI index or a Docker manifest list.
func ReadIndex(ctx context.Context, p Provider, desc ocispec.Descriptor) (ocispec.Index, error) {
	panic("unimplemented")
}

// ReadConfig reads an image config.
func ReadConfig(ctx context.Context, p Provider, desc ocispec.Descriptor) (Config, error) {
	panic("unimplemented")
}

// ChainIDs returns the chain ID of every prefix of diffIDs.
func ChainIDs(diffIDs []digest.Digest) []digest.Digest { panic("unimplemented") }

// IsIndex reports whether mediaType is an OCI index or a Docker manifest list.
func IsIndex(mediaType string) bool { panic("unimplemented") }

// IsManifest reports whether mediaType is an OCI or Docker v2 image manifest.
func IsManifest(mediaType string) bool { panic("unimplemented") }

// IsLayer reports whether mediaType is a layer of any known kind.
func IsLayer(mediaType string) bool { panic("unimplemented") }
