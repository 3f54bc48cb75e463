package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/imagetar"
	"github.com/strata-containers/strata/internal/reference"
)

// LoadOptions says where ImageLoad reads from.
type LoadOptions struct {
	Input io.Reader // a docker-archive or OCI layout tar, used when Path is ""
	Path  string    // a tar file, or a directory holding an OCI layout
}

// LoadedImage is one image a load made available.
type LoadedImage struct {
	ID   digest.Digest
	Tags []string // familiar names it was tagged with; empty: loaded by ID only
}

// ImageLoad loads the images of an archive (`docker load`).
func (e *Engine) ImageLoad(ctx context.Context, opts LoadOptions) ([]LoadedImage, error) {
	defer e.shared()()
	var (
		loaded []imagetar.Loaded
		err    error
	)
	switch {
	case opts.Path == "":
		loaded, err = imagetar.Load(ctx, e.stores(), opts.Input)
	default:
		loaded, err = e.loadPath(ctx, opts.Path)
	}
	if err != nil {
		return nil, err
	}
	out := make([]LoadedImage, len(loaded))
	for i, l := range loaded {
		out[i] = LoadedImage{ID: l.ID, Tags: l.Tags}
	}
	return out, nil
}

func (e *Engine) loadPath(ctx context.Context, path string) ([]imagetar.Loaded, error) {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return nil, errdefs.NotFound("open %s: no such file or directory", path)
	}
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return imagetar.LoadDir(ctx, e.stores(), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return imagetar.Load(ctx, e.stores(), f)
}

// ImageSave writes the named images to w as one archive (`docker save`).
// A name with a tag or digest saves that reference; a bare repository name
// saves all of its tags; an ID saves the image without a name.
func (e *Engine) ImageSave(ctx context.Context, w io.Writer, names []string) error {
	defer e.shared()()
	var (
		imgs []imagetar.SaveImage
		at   = map[digest.Digest]int{}
	)
	add := func(id digest.Digest, ref reference.Named) {
		i, ok := at[id]
		if !ok {
			i = len(imgs)
			at[id] = i
			imgs = append(imgs, imagetar.SaveImage{ID: id})
		}
		if ref != nil {
			imgs[i].Refs = append(imgs[i].Refs, ref)
		}
	}
	for _, name := range names {
		if err := e.saveName(ctx, name, add); err != nil {
			return err
		}
	}
	return imagetar.Save(ctx, e.stores(), w, imgs)
}

// ImageSaveFile is ImageSave into the file path, which appears complete or
// not at all.
func (e *Engine) ImageSaveFile(ctx context.Context, path string, names []string) error {
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := e.ImageSave(ctx, f, names); err != nil {
		return err
	}
	return f.Commit()
}

func (e *Engine) saveName(ctx context.Context, name string, add func(digest.Digest, reference.Named)) error {
	ref, err := reference.ParseNoDefaultTag(name)
	if err == nil && reference.Tag(ref) == "" && reference.Digest(ref) == "" {
		n, err := e.addRepository(ctx, ref, add)
		if n > 0 || err != nil {
			return err
		}
	}
	img, err := e.images.Resolve(ctx, name)
	if err != nil {
		return err
	}
	if isIDPrefix(img.ID, name) || ref == nil {
		add(img.ID, nil)
		return nil
	}
	add(img.ID, ref)
	return nil
}

// addRepository adds every tag of the repository repo, as docker saves a
// bare repository name, and returns how many there were.
func (e *Engine) addRepository(ctx context.Context, repo reference.Named, add func(digest.Digest, reference.Named)) (int, error) {
	all, err := e.images.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, img := range all {
		refs, err := refsOf(img)
		if err != nil {
			return n, err
		}
		for _, r := range refs {
			if !r.canonical && r.named.Name() == repo.Name() {
				add(img.ID, r.named)
				n++
			}
		}
	}
	return n, nil
}

// ImportOptions tunes ImageImport.
type ImportOptions struct {
	Ref      string   // REPOSITORY[:TAG] to tag the image with; "" for none
	Changes  []string // Dockerfile instructions applied to the config (CMD, ENV, ...)
	Message  string   // the history comment
	Platform string   // os/arch[/variant]; "" for this host's
}

// ImageImport makes a one-layer image of the root filesystem tar r
// (`docker import`) and returns its ID.
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, opts ImportOptions) (digest.Digest, error) {
	var ref reference.Named
	if opts.Ref != "" {
		var err error
		if ref, err = parseTagRef(opts.Ref); err != nil {
			return "", err
		}
	}
	platform, err := parsePlatform(opts.Platform)
	if err != nil {
		return "", err
	}
	defer e.shared()()
	id, err := imagetar.Import(ctx, e.stores(), r, imagetar.ImportOptions{
		Changes: opts.Changes, Message: opts.Message, Platform: platform,
	})
	if err != nil {
		return "", err
	}
	if ref != nil {
		if err := e.images.Tag(ctx, ref, id); err != nil {
			return "", err
		}
	}
	return id, nil
}

// parsePlatform parses "os/arch[/variant]"; "" leaves the choice (this
// host) to the importer.
func parsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return ocispec.Platform{}, nil
	}
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, errdefs.Invalid("invalid platform %q: want os/arch[/variant]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// ImageTag makes target (REPOSITORY[:TAG]) name the image source.
func (e *Engine) ImageTag(ctx context.Context, source, target string) error {
	ref, err := parseTagRef(target)
	if err != nil {
		return err
	}
	defer e.shared()()
	img, err := e.images.Resolve(ctx, source)
	if err != nil {
		return err
	}
	return e.images.Tag(ctx, ref, img.ID)
}

// parseTagRef parses a reference a tag can be made of: not name@digest.
func parseTagRef(s string) (reference.Named, error) {
	ref, err := reference.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parsing reference %q: %w", s, err)
	}
	if reference.Digest(ref) != "" {
		return nil, errdefs.Invalid("refusing to create a tag with a digest reference")
	}
	return ref, nil
}
