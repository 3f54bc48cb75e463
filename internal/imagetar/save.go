package imagetar

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
)

// SaveImage names one image to save and the references to record for it.
type SaveImage struct {
	ID   digest.Digest
	Refs []reference.Named // tags to record; may be empty. Digest references are skipped.
}

// savedImage is what Save needs of one image, read before the first byte is
// written so that an unknown or broken image fails the save cleanly.
type savedImage struct {
	id      digest.Digest
	tags    []reference.Named // each with a tag
	config  []byte
	cfg     image.Config
	blobs   []ocispec.Descriptor // the stored layer blobs, maybe compressed
	diffIDs []digest.Digest
}

// Save writes one archive holding all images in the format Docker >= 25
// writes: an OCI layout (oci-layout, index.json, blobs/sha256/... with
// uncompressed layers named by diffID) plus the classic manifest.json and
// repositories. Layers shared by several images are written once. The
// output depends only on the images and refs, so saving twice gives the
// same bytes. An unknown ID is an errdefs.ErrNotFound error.
func Save(ctx context.Context, st Stores, w io.Writer, imgs []SaveImage) error {
	saved, err := readImages(ctx, st, imgs)
	if err != nil {
		return err
	}
	s := &saver{
		st:         st,
		tw:         tar.NewWriter(w),
		mtime:      newestCreated(saved),
		written:    map[digest.Digest]bool{},
		layerSizes: map[digest.Digest]int64{},
		dirs:       map[string]bool{},
	}
	var index []ocispec.Descriptor
	var items []manifestItem
	repos := map[string]map[string]string{}
	for _, img := range saved {
		mdesc, err := s.image(ctx, img)
		if err != nil {
			return err
		}
		index = append(index, indexEntries(img, mdesc)...)
		items = append(items, classicEntry(img))
		addRepositories(repos, img)
	}
	if err := s.trailer(index, items, repos); err != nil {
		return err
	}
	if err := s.tw.Close(); err != nil {
		return fmt.Errorf("writing archive: %w", err)
	}
	return nil
}

// readImages loads records, manifests and configs; an ID given twice is
// saved once with the union of its refs.
func readImages(ctx context.Context, st Stores, imgs []SaveImage) ([]*savedImage, error) {
	var out []*savedImage
	byID := map[digest.Digest]*savedImage{}
	for _, si := range imgs {
		img, ok := byID[si.ID]
		if !ok {
			var err error
			if img, err = readImage(ctx, st, si.ID); err != nil {
				return nil, err
			}
			byID[si.ID] = img
			out = append(out, img)
		}
		img.tags = appendTags(img.tags, si.Refs)
	}
	if len(out) == 0 {
		return nil, errdefs.Invalid("no images to save")
	}
	return out, nil
}

func readImage(ctx context.Context, st Stores, id digest.Digest) (*savedImage, error) {
	rec, err := st.Images.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := image.ReadManifest(ctx, st.Content, rec.Manifest)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading manifest %s: %w", id, rec.Manifest.Digest, err)
	}
	config, err := st.Content.ReadAll(ctx, m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading config: %w", id, err)
	}
	var cfg image.Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, errdefs.DataLoss("image %s: parsing config: %w", id, err)
	}
	diffIDs := cfg.RootFS.DiffIDs
	if len(diffIDs) != len(m.Layers) {
		return nil, errdefs.DataLoss("image %s: manifest has %d layers but config has %d diff_ids", id, len(m.Layers), len(diffIDs))
	}
	for _, d := range diffIDs {
		if err := d.Validate(); err != nil {
			return nil, errdefs.DataLoss("image %s: diff_id %q: %w", id, d, err)
		}
	}
	return &savedImage{id: id, config: config, cfg: cfg, blobs: m.Layers, diffIDs: diffIDs}, nil
}

// appendTags adds the tagged forms of refs (a bare name means :latest, as
// in Docker; name@digest records nothing) that tags lacks.
func appendTags(tags []reference.Named, refs []reference.Named) []reference.Named {
	for _, r := range refs {
		if reference.Tag(r) == "" {
			if reference.Digest(r) != "" {
				continue
			}
			var err error
			if r, err = reference.Parse(reference.Repository(r)); err != nil {
				continue
			}
		}
		dup := false
		for _, t := range tags {
			dup = dup || t.String() == r.String()
		}
		if !dup {
			tags = append(tags, r)
		}
	}
	return tags
}

// newestCreated is the time stamped on every entry: the newest creation
// time among the images, which keeps the output a function of the images
// (and avoids tar's warnings about 1970 time stamps).
func newestCreated(imgs []*savedImage) time.Time {
	t := time.Unix(0, 0)
	for _, img := range imgs {
		if c := img.cfg.Created; c != nil && c.After(t) {
			t = *c
		}
	}
	return t.UTC().Truncate(time.Second)
}

func indexEntries(img *savedImage, mdesc ocispec.Descriptor) []ocispec.Descriptor {
	base := ocispec.Descriptor{MediaType: mdesc.MediaType, Digest: mdesc.Digest, Size: mdesc.Size}
	if img.cfg.OS != "" {
		p := img.cfg.Platform
		base.Platform = &ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
	}
	if len(img.tags) == 0 {
		return []ocispec.Descriptor{base}
	}
	var out []ocispec.Descriptor
	for _, t := range img.tags {
		d := base
		d.Annotations = map[string]string{
			annotationImageName:       t.String(),
			ocispec.AnnotationRefName: reference.Tag(t),
		}
		out = append(out, d)
	}
	return out
}

func classicEntry(img *savedImage) manifestItem {
	item := manifestItem{Config: blobPath(digest.FromBytes(img.config)), Layers: []string{}}
	for _, t := range img.tags {
		item.RepoTags = append(item.RepoTags, reference.Familiar(t))
	}
	for _, d := range img.diffIDs {
		item.Layers = append(item.Layers, blobPath(d))
	}
	return item
}

// addRepositories fills the legacy repositories file: familiar repository ->
// tag -> top layer, which is what Docker >= 25 writes there.
func addRepositories(repos map[string]map[string]string, img *savedImage) {
	if len(img.diffIDs) == 0 {
		return
	}
	top := img.diffIDs[len(img.diffIDs)-1].Encoded()
	for _, t := range img.tags {
		repo := reference.FamiliarRepository(t)
		if repos[repo] == nil {
			repos[repo] = map[string]string{}
		}
		repos[repo][reference.Tag(t)] = top
	}
}

// trailer writes the metadata files after the blobs.
func (s *saver) trailer(index []ocispec.Descriptor, items []manifestItem, repos map[string]map[string]string) error {
	idx, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: index,
	})
	if err != nil {
		return fmt.Errorf("encoding %s: %w", indexFile, err)
	}
	if err := s.file(indexFile, idx); err != nil {
		return err
	}
	// Docker ends these two with a newline (json.Encoder); so does Save.
	man, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", manifestFile, err)
	}
	if err := s.file(manifestFile, append(man, '\n')); err != nil {
		return err
	}
	if err := s.file(layoutFile, layoutContent); err != nil {
		return err
	}
	if len(repos) == 0 {
		return nil
	}
	rep, err := json.Marshal(repos)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", repositoriesFile, err)
	}
	return s.file(repositoriesFile, append(rep, '\n'))
}
