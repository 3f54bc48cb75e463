package distribution

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
	"github.com/strata-containers/strata/internal/registry"
	treg "github.com/strata-containers/strata/internal/testutil/registry"
)

// pushIndex pushes imgs' manifests by digest and an index of them, with
// their platforms, as name; it returns the index's digest.
func pushIndex(t *testing.T, st Stores, c *registry.Client, name, mediaType string, imgs []image.Image, platforms []ocispec.Platform) digest.Digest {
	t.Helper()
	ctx := context.Background()
	ref, err := reference.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := c.Repository(ctx, ref, true)
	if err != nil {
		t.Fatal(err)
	}
	idx := ocispec.Index{MediaType: mediaType}
	idx.SchemaVersion = 2
	for i, img := range imgs {
		if _, err := Push(ctx, st, repo, img, ref, PushOptions{}); err != nil {
			t.Fatal(err)
		}
		d := img.Manifest
		d.Platform = &platforms[i]
		if mediaType == image.MediaTypeDockerManifestList {
			d.MediaType = ocispec.MediaTypeImageManifest
		}
		idx.Manifests = append(idx.Manifests, d)
	}
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.PutManifest(ctx, reference.Tag(ref), mediaType, data); err != nil {
		t.Fatal(err)
	}
	return digest.FromBytes(data)
}

func TestPullPicksPlatformFromIndex(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	src := openStores(t)
	c := fastClient(registry.Options{})
	host := makeImage(t, src, r.Host+"/test/multi:host", base)
	other := makeImage(t, src, r.Host+"/test/multi:other", top1)
	otherPlatform := ocispec.Platform{OS: "linux", Architecture: "s390x"}
	for _, mt := range []string{ocispec.MediaTypeImageIndex, image.MediaTypeDockerManifestList} {
		t.Run(mt, func(t *testing.T) {
			name := r.Host + "/test/multi:index"
			idx := pushIndex(t, src, c, name, mt, []image.Image{other, host}, []ocispec.Platform{otherPlatform, HostPlatform()})

			dst := openStores(t)
			got, err := pull(dst, c, name, PullOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != host.ID || got.Digest != idx {
				t.Fatalf("default pull got image %s (digest %s), want the host's %s (index %s)", got.ID, got.Digest, host.ID, idx)
			}
			got, err = pull(dst, c, name, PullOptions{Platform: &otherPlatform})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != other.ID {
				t.Fatalf("--platform linux/s390x got %s, want %s", got.ID, other.ID)
			}
			_, err = pull(dst, c, name, PullOptions{Platform: &ocispec.Platform{OS: "windows", Architecture: "amd64"}})
			if !errdefs.IsNotFound(err) {
				t.Fatalf("pull for a platform not in the index = %v, want not found", err)
			}
		})
	}
}

func TestPullFromDockerHubMirror(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	src := openStores(t)
	c := fastClient(registry.Options{})
	img := makeImage(t, src, r.Host+"/library/mirrored:1", base)
	push(t, src, c, img, r.Host+"/library/mirrored:1", PushOptions{})

	mc := fastClient(registry.Options{Mirrors: []string{"http://" + r.Host}})
	dst := openStores(t)
	got, err := pull(dst, mc, "mirrored:1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != img.ID {
		t.Fatalf("pulled %s from the mirror, want %s", got.ID, img.ID)
	}
	checkPulled(t, dst, "mirrored:1", img.ID)
}
