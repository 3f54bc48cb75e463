package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/unpack"
)

// DiskUsage is `docker system df`'s data.
type DiskUsage struct {
	// LayersSize is the size of every layer in the store, shared or not.
	LayersSize int64
	// Images lists the images (as `images` would) with SharedSize and
	// Containers computed.
	Images []ImageSummary
	// ImagesReclaimable is what removing every unused image would free.
	ImagesReclaimable int64
	// Volumes lists the volumes with their Links and Size.
	Volumes []Volume
	// Containers lists every container with its writable layer's size.
	Containers []ContainerUsage
	// BuildCache is what the build cache alone holds.
	BuildCache BuildCacheUsage
}

// SystemDF reports disk usage. An image's size is the sum of its layers';
// its shared size is that of the layers another image uses too.
func (e *Engine) SystemDF(ctx context.Context) (DiskUsage, error) {
	defer e.shared()()
	imgs, err := e.readImages(ctx)
	if err != nil {
		return DiskUsage{}, err
	}
	sizes, err := e.layerSizes(ctx)
	if err != nil {
		return DiskUsage{}, err
	}
	uses, err := e.imageUsers(ctx)
	if err != nil {
		return DiskUsage{}, fmt.Errorf("listing containers' images: %w", err)
	}
	listed, err := listFrom(imgs, sizes, false, listFilter{})
	if err != nil {
		return DiskUsage{}, err
	}
	du := diskUsage(imgs, listed, sizes, uses)
	if du.Containers, err = e.containerUsage(ctx); err != nil {
		return du, err
	}
	if du.BuildCache, err = e.buildCacheUsage(ctx, imgs, sizes); err != nil {
		return du, err
	}
	du.Volumes, err = e.volumeUsage(ctx)
	return du, err
}

// diskUsage fills in the shared sizes and container counts of the listed
// images; every image, listed or not, counts towards sharing a layer.
func diskUsage(imgs []*imageData, listed []ImageSummary, sizes map[digest.Digest]int64, uses []ImageUse) DiskUsage {
	users := map[string]int64{}
	for _, u := range uses {
		users[u.ImageID.String()]++
	}
	refs := map[digest.Digest]int{} // how many images use each layer
	chains := map[string][]digest.Digest{}
	for _, d := range imgs {
		chains[d.ID.String()] = d.chainIDs
		for _, c := range d.chainIDs {
			refs[c]++
		}
	}
	var du DiskUsage
	for _, n := range sizes {
		du.LayersSize += n
	}
	var used int64
	for _, s := range listed {
		s.SharedSize, s.Containers = 0, users[s.ID]
		for _, c := range chains[s.ID] {
			if refs[c] > 1 {
				s.SharedSize += sizes[c]
			}
		}
		if s.Containers > 0 {
			used += s.Size - s.SharedSize
		}
		du.Images = append(du.Images, s)
	}
	du.ImagesReclaimable = du.LayersSize - used
	return du
}

// Problem is one inconsistency SystemCheck found.
type Problem struct {
	Image  string        // the image concerned ("busybox:latest" or a short ID); "" for a lone blob
	Object digest.Digest // the blob or layer (chain ID) concerned
	What   string        // what is wrong
}

func (p Problem) String() string {
	if p.Image == "" {
		return fmt.Sprintf("blob %s: %s", p.Object, p.What)
	}
	return fmt.Sprintf("image %s: %s %s", p.Image, p.Object, p.What)
}

// SystemCheck re-hashes every blob and every layer that can rebuild its
// tar (the layer's directory is then the only copy of its bytes, and the
// rebuild is checked against the diffID), and checks that every image's
// manifest, config, layer blobs and layers are present. It reports each
// problem; the error is for failures to check at all.
func (e *Engine) SystemCheck(ctx context.Context) ([]Problem, error) {
	defer e.shared()()
	var problems []Problem
	err := e.content.Walk(ctx, func(info content.Info) error {
		err := e.content.Verify(ctx, info.Digest)
		switch {
		case err == nil, errdefs.IsNotFound(err): // a load dropped it since it was listed
		case errdefs.IsDataLoss(err):
			problems = append(problems, Problem{Object: info.Digest, What: "is corrupted: " + err.Error()})
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return problems, fmt.Errorf("verifying blobs: %w", err)
	}
	imgs, err := e.images.List(ctx)
	if err != nil {
		return problems, err
	}
	c := &checker{e: e, layers: map[digest.Digest]string{}}
	for _, img := range imgs {
		p, err := c.image(ctx, img.ID, name(img))
		if err != nil {
			return problems, err
		}
		problems = append(problems, p...)
	}
	return problems, nil
}

// checker checks images, each shared layer once.
type checker struct {
	e      *Engine
	layers map[digest.Digest]string // chain ID -> what is wrong with it, "" for nothing
}

func (c *checker) image(ctx context.Context, id digest.Digest, label string) ([]Problem, error) {
	e := c.e
	img, err := e.images.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	problem := func(obj digest.Digest, what string) Problem { return Problem{Image: label, Object: obj, What: what} }
	if missing, err := e.missingBlob(ctx, img.Manifest.Digest); missing || err != nil {
		return []Problem{problem(img.Manifest.Digest, "(manifest) is missing from the content store")}, err
	}
	d, err := e.readImage(ctx, img)
	if err == nil && len(d.manifest.Layers) != len(d.chainIDs) {
		err = errdefs.Invalid("manifest has %d layers, config %d diff IDs", len(d.manifest.Layers), len(d.chainIDs))
	}
	if err != nil {
		if errdefs.IsNotFound(err) || errdefs.IsInvalid(err) || errdefs.IsDataLoss(err) {
			return []Problem{problem(img.Manifest.Digest, "(manifest) or its config cannot be read: "+err.Error())}, nil
		}
		return nil, err
	}
	blobs := unpack.LayerBlobs{Content: e.content, Layers: e.layers}
	var out []Problem
	for i, l := range d.manifest.Layers {
		_, err := blobs.Stat(ctx, l, d.config.RootFS.DiffIDs[i], d.chainIDs[i])
		if errdefs.IsNotFound(err) {
			out = append(out, problem(l.Digest, "(layer blob) is missing from the content store"))
		} else if err != nil {
			return out, err
		}
	}
	for _, chain := range d.chainIDs {
		what, err := c.layer(ctx, chain)
		if err != nil {
			return out, err
		}
		if what != "" {
			out = append(out, problem(chain, what))
		}
	}
	return out, nil
}

// layer checks a layer once: present, and, if it can rebuild its tar,
// rebuilding it gives the bytes of its diffID.
func (c *checker) layer(ctx context.Context, chain digest.Digest) (string, error) {
	if what, ok := c.layers[chain]; ok {
		return what, nil
	}
	what, err := c.verifyLayer(ctx, chain)
	if err != nil {
		return "", err
	}
	c.layers[chain] = what
	return what, nil
}

func (c *checker) verifyLayer(ctx context.Context, chain digest.Digest) (string, error) {
	info, err := c.e.layers.Get(ctx, chain)
	if errdefs.IsNotFound(err) {
		return "(layer) is missing from the layer store", nil
	}
	if err != nil || !info.TarSplit {
		return "", err
	}
	rc, err := c.e.layers.Diff(ctx, chain)
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	switch {
	case errdefs.IsDataLoss(err):
		return "(layer) is damaged, its files no longer match its diffID: " + err.Error(), nil
	case errdefs.IsNotFound(err):
		return "(layer) is missing from the layer store", nil
	}
	return "", err
}

func (e *Engine) missingBlob(ctx context.Context, d digest.Digest) (bool, error) {
	_, err := e.content.Info(ctx, d)
	if errdefs.IsNotFound(err) {
		return true, nil
	}
	return false, err
}
