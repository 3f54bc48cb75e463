// Package distribution moves images between a registry and the local
// stores: Pull (registry → content, layer and image stores) and Push (the
// stores → registry). Package registry speaks the protocol; this package
// decides what to move and where it lands.
//
// Pull's invariants, the same as imagetar.Load's:
//   - every manifest, config and blob is verified against its digest before
//     it is committed; a layer is streamed once from the registry through
//     digest check, decompression and unpack (unpack.Layer), and neither the
//     layer nor the blob is committed unless the whole stream verified;
//   - a layer already in the layer store (by chain ID) is not downloaded;
//   - the image record and its references are written last, after every
//     layer is committed, so an interrupted pull leaves nothing half-visible
//     (only unreferenced blobs and layers, which garbage collection removes).
//
// The caller (engine) holds gc.lock shared for the whole call.
package distribution

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/strata-containers/strata/internal/content"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/layer"
	"github.com/strata-containers/strata/internal/reference"
	"github.com/strata-containers/strata/internal/registry"
	"github.com/strata-containers/strata/internal/unpack"
)

// DefaultJobs is how many layers a pull downloads at once, Docker's default.
const DefaultJobs = 3

// maxIndexDepth bounds nested indexes.
const maxIndexDepth = 4

// Stores are the local stores an image moves in or out of.
type Stores struct {
	Content *content.Store
	Layers  *layer.Store
	Images  *image.Store
}

// PullOptions tune Pull.
type PullOptions struct {
	// Platform picks the manifest of an index; nil means the host's.
	Platform *ocispec.Platform
	// Jobs bounds concurrent layer downloads (default DefaultJobs).
	Jobs int
	// Progress, if set, is told what happens to each layer.
	Progress func(Progress)
	// ProgressBytes asks for "Downloading" reports with byte counts
	// (throttled, see progressInterval), for progress bars.
	ProgressBytes bool
}

// Progress is one step of a pull or push, as docker prints them:
// ID is a layer's short digest ("" for the image), Status the step.
// Byte-count reports ("Downloading", "Pushing") also carry Current, the
// bytes moved so far, and Total, the blob's size (0 if unknown).
type Progress struct {
	ID      string
	Status  string
	Current int64
	Total   int64
}

// Pulled is the outcome of one pull.
type Pulled struct {
	ID       digest.Digest      // image ID (config digest)
	Digest   digest.Digest      // digest of what the reference resolved to (index or manifest)
	Ref      reference.Named    // the reference pulled
	Fetched  int                // layers downloaded (0: everything was here)
	UpToDate bool               // the reference already named this image
	Manifest ocispec.Descriptor // the platform manifest
}

type puller struct {
	st   Stores
	repo *registry.Repo
	opts PullOptions
}

// Pull fetches the image ref names (tag or digest) from repo into st and
// points ref at it (and, for a tag, repo@digest too, as docker's RepoDigests).
func Pull(ctx context.Context, st Stores, repo *registry.Repo, ref reference.Named, opts PullOptions) (Pulled, error) {
	if opts.Jobs <= 0 {
		opts.Jobs = DefaultJobs
	}
	p := &puller{st: st, repo: repo, opts: opts}
	want := reference.Tag(ref)
	if d := reference.Digest(ref); d != "" {
		want = d.String()
	}
	p.progress(want, "Pulling from "+repo.Name())
	data, top, err := repo.GetManifest(ctx, want)
	if err != nil {
		return Pulled{}, err
	}
	if err := p.ingest(ctx, top, data); err != nil {
		return Pulled{}, err
	}
	mdesc, err := p.platformManifest(ctx, top, 0)
	if err != nil {
		return Pulled{}, err
	}
	out, err := p.image(ctx, mdesc)
	if err != nil {
		return Pulled{}, err
	}
	out.Digest, out.Ref, out.Manifest = top.Digest, ref, mdesc
	out.UpToDate, err = p.record(ctx, out.ID, mdesc, ref, top.Digest)
	if err != nil {
		return Pulled{}, err
	}
	return out, nil
}

func (p *puller) progress(id, status string) {
	if p.opts.Progress != nil {
		p.opts.Progress(Progress{ID: id, Status: status})
	}
}

// ingest stores a small verified document (manifest, index, config).
func (p *puller) ingest(ctx context.Context, desc ocispec.Descriptor, data []byte) error {
	if _, err := p.st.Content.Ingest(ctx, bytesReader(data), desc.Digest, int64(len(data))); err != nil {
		return fmt.Errorf("storing %s: %w", desc.Digest, err)
	}
	return nil
}

// platformManifest follows indexes down to the manifest for the platform.
func (p *puller) platformManifest(ctx context.Context, desc ocispec.Descriptor, depth int) (ocispec.Descriptor, error) {
	if !image.IsIndex(desc.MediaType) {
		return desc, nil
	}
	if depth >= maxIndexDepth {
		return ocispec.Descriptor{}, errdefs.Invalid("index %s: indexes nested too deep", desc.Digest)
	}
	idx, err := image.ReadIndex(ctx, p.st.Content, desc)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	want := p.platform()
	for _, m := range idx.Manifests {
		if m.Platform == nil || !matches(want, *m.Platform) {
			continue
		}
		data, got, err := p.repo.GetManifest(ctx, m.Digest.String())
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		if m.MediaType != "" {
			got.MediaType = m.MediaType
		}
		if err := p.ingest(ctx, got, data); err != nil {
			return ocispec.Descriptor{}, err
		}
		return p.platformManifest(ctx, got, depth+1)
	}
	return ocispec.Descriptor{}, errdefs.NotFound("no matching manifest for %s in the manifest list entries", formatPlatform(want))
}

func (p *puller) platform() ocispec.Platform {
	if p.opts.Platform != nil && p.opts.Platform.OS != "" {
		return *p.opts.Platform
	}
	return HostPlatform()
}

// HostPlatform is the platform images are pulled for by default.
func HostPlatform() ocispec.Platform {
	v := ""
	switch runtime.GOARCH {
	case "arm64":
		v = "v8"
	case "arm":
		v = "v7"
	}
	return ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH, Variant: v}
}

// matches compares os, architecture and, when both name one, variant
// (arm64's "v8" is the default and may be left out).
func matches(want, have ocispec.Platform) bool {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	if want.Variant == "" || have.Variant == "" {
		return true
	}
	return want.Variant == have.Variant
}

func formatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// image fetches the config and the missing layers of the manifest mdesc.
func (p *puller) image(ctx context.Context, mdesc ocispec.Descriptor) (Pulled, error) {
	m, err := image.ReadManifest(ctx, p.st.Content, mdesc)
	if err != nil {
		return Pulled{}, err
	}
	cfgData, err := p.fetchSmall(ctx, m.Config)
	if err != nil {
		return Pulled{}, err
	}
	if err := p.ingest(ctx, m.Config, cfgData); err != nil {
		return Pulled{}, err
	}
	cfg, err := image.ReadConfig(ctx, p.st.Content, m.Config)
	if err != nil {
		return Pulled{}, err
	}
	if err := image.CheckLayers(m, cfg); err != nil {
		return Pulled{}, err
	}
	n, err := p.layers(ctx, m.Layers, cfg.RootFS.DiffIDs)
	if err != nil {
		return Pulled{}, err
	}
	return Pulled{ID: m.Config.Digest, Fetched: n}, nil
}

// maxConfigSize bounds a config held in memory.
const maxConfigSize = 16 << 20

func (p *puller) fetchSmall(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxConfigSize {
		return nil, errdefs.Invalid("config %s: %d bytes is too large", desc.Digest, desc.Size)
	}
	rc := p.repo.OpenBlob(ctx, desc)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("fetching config %s: %w", desc.Digest, err)
	}
	return data, nil
}

// layers downloads and unpacks the layers not in the layer store, a few at
// once, smallest blob first, when the layer driver allows registering a
// child before its parent (overlay), one by one in order otherwise. It returns how many it fetched.
func (p *puller) layers(ctx context.Context, descs []ocispec.Descriptor, diffIDs []digest.Digest) (int, error) {
	chain := image.ChainIDs(diffIDs)
	var missing []int
	for i, id := range chain {
		_, err := p.st.Layers.Get(ctx, id)
		switch {
		case err == nil:
			p.progress(shortID(descs[i].Digest), "Already exists")
		case errdefs.IsNotFound(err):
			missing = append(missing, i)
			p.progress(shortID(descs[i].Digest), "Pulling fs layer")
		default:
			return 0, fmt.Errorf("looking up layer %s: %w", id, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(1)
	if p.st.Layers.ConcurrentRegister() {
		g.SetLimit(p.opts.Jobs)
		// Smallest blobs first: a small blob is often a layer that
		// compresses well (text, binaries), whose inflation is the slowest
		// step per blob byte. Started last, it ran alone at the end of the
		// pull on a single core; started first, the big incompressible
		// layers overlap it.
		slices.SortStableFunc(missing, func(a, b int) int { return cmp.Compare(descs[a].Size, descs[b].Size) })
	}
	for _, i := range missing {
		var parent digest.Digest
		if i > 0 {
			parent = chain[i-1]
		}
		g.Go(func() error { return p.layer(gctx, parent, descs[i], diffIDs[i]) })
	}
	return len(missing), g.Wait()
}

// layer streams one layer: the registry's body, verified as it is read, is
// teed into the content store and into unpack.Layer. The layer commits only
// if the body verified (the verifying reader fails instead of ending
// otherwise); the blob commits after it, once the body has ended, so the
// content store need not hash it again (content.SourceVerifiedWriter).
func (p *puller) layer(ctx context.Context, parent digest.Digest, desc ocispec.Descriptor, diffID digest.Digest) error {
	id := shortID(desc.Digest)
	p.progress(id, "Downloading")
	w, err := p.st.Content.SourceVerifiedWriter(ctx, desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	defer w.Close()
	body := countBytes(p.repo.OpenBlob(ctx, desc), p.opts.Progress, p.opts.ProgressBytes, id, "Downloading", desc.Size)
	defer body.Close()
	tee := io.TeeReader(body, w)
	if _, err := unpack.Layer(ctx, p.st.Layers, parent, diffID, tee); err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	// The layer may have been there already (another pull won the race),
	// then Register read nothing: finish the blob all the same.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	p.progress(id, "Download complete")
	if _, err := w.Commit(ctx); err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	p.progress(id, "Pull complete")
	return nil
}

// record writes the image record (if new) and the references, last. It
// reports whether ref already named the image.
func (p *puller) record(ctx context.Context, id digest.Digest, mdesc ocispec.Descriptor, ref reference.Named, top digest.Digest) (bool, error) {
	upToDate := false
	if img, err := p.st.Images.Resolve(ctx, ref.String()); err == nil && img.ID == id {
		upToDate = true
	}
	_, err := p.st.Images.Get(ctx, id)
	switch {
	case errdefs.IsNotFound(err):
		rec := image.Record{ID: id, Manifest: mdesc, Created: time.Now().UTC()}
		if err := p.st.Images.Put(ctx, rec); err != nil {
			return false, fmt.Errorf("recording image %s: %w", id, err)
		}
	case err != nil:
		return false, fmt.Errorf("looking up image %s: %w", id, err)
	}
	if err := p.st.Images.Tag(ctx, ref, id); err != nil {
		return false, fmt.Errorf("tagging image %s as %s: %w", id, reference.Familiar(ref), err)
	}
	if reference.Digest(ref) == "" {
		canonical, err := reference.WithDigest(ref, top)
		if err != nil {
			return false, err
		}
		if err := p.st.Images.Tag(ctx, canonical, id); err != nil {
			return false, fmt.Errorf("recording digest of %s: %w", reference.Familiar(ref), err)
		}
	}
	return upToDate, nil
}

func shortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}
